//! proptest strategies (`arb_*`), shared by the property tests.

use proptest::prelude::*;
use serde_json::{Map, Value};
use stepmint::StepRequest;

/// A hyphenated UUID, sometimes in braces.
pub fn arb_uuid() -> impl Strategy<Value = String> {
    (any::<u128>(), any::<bool>()).prop_map(|(n, braces)| {
        let u = uuid::Uuid::from_u128(n).hyphenated().to_string();
        if braces { format!("{{{u}}}") } else { u }
    })
}

/// A branch name Bitbucket could report.
pub fn arb_branch() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9._/-]{0,40}"
}

/// Custom audiences within Bitbucket's limits.
pub fn arb_audiences() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[ -~]{1,150}", 0..=10)
}

/// Arbitrary JSON, bounded in depth and size.
pub fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Extra claims that do not touch the registered ones.
pub fn arb_extra_claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x-[a-z]{1,8}", arb_json(), 0..4)
        .prop_map(|m| m.into_iter().collect())
}

/// A valid step request.
pub fn arb_step_request() -> impl Strategy<Value = StepRequest> {
    (
        prop::option::of(arb_uuid()),
        prop::option::of(arb_uuid()),
        prop::option::of(arb_uuid()),
        prop::option::of(arb_uuid()),
        prop::option::of(arb_branch()),
        arb_audiences(),
        prop::option::of(1u64..=86_400),
        arb_extra_claims(),
    )
        .prop_map(
            |(repo, step, pipeline, env, branch, audiences, lifetime, claims)| StepRequest {
                repository_uuid: repo,
                step_uuid: step,
                pipeline_uuid: pipeline,
                deployment_environment_uuid: env,
                branch,
                audiences,
                lifetime,
                claims,
                ..Default::default()
            },
        )
}

/// A `StringLike` pattern over a small alphabet, so matches are frequent.
pub fn arb_pattern() -> impl Strategy<Value = String> {
    "[ab*?]{0,8}"
}

/// Text over the same alphabet, wildcard characters included (they are literal in text).
pub fn arb_text() -> impl Strategy<Value = String> {
    "[ab*?]{0,8}"
}

/// A name to try as a git branch: pieces that git's ref-format rules treat specially (dots,
/// slashes, `.lock`, `@{`, control characters, look-alikes) strung together.
pub fn arb_ref_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9_-]{1,4}",
        1 => Just(".".to_string()),
        1 => Just("..".to_string()),
        2 => Just("/".to_string()),
        1 => Just(".lock".to_string()),
        1 => Just("@".to_string()),
        1 => Just("{".to_string()),
        1 => Just("@{".to_string()),
        1 => prop::sample::select(vec![
            " ", "~", "^", ":", "?", "*", "[", "\\", "\t", "\r\n", "\u{7f}", "\u{1}", "HEAD",
            "\u{430}", "\u{ff41}", "\u{200b}", "\u{85}", "é",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}
