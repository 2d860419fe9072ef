//! Property tests of minting and validation against small independent models.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use stepmint::validate::{self, Policy};
use stepmint::{
    Crafting, FixedClock, IdSource, Issuer, IssuerOptions, MintRequest, StepRequest, WorkspaceSpec,
};

use crate::arb::*;

const NOW: i64 = 1_800_000_000;

/// A request for the genuine token with `edits`.
fn edited(edits: Vec<stepmint::hostile::Edit>) -> MintRequest {
    MintRequest {
        step: StepRequest::default(),
        craft: Crafting {
            edits,
            ..Crafting::default()
        },
    }
}

fn issuer() -> &'static (tempfile::TempDir, Issuer) {
    static ISSUER: std::sync::OnceLock<(tempfile::TempDir, Issuer)> = std::sync::OnceLock::new();
    ISSUER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut options = IssuerOptions::new(dir.path(), "https://localhost:8443");
        options.workspaces = vec![WorkspaceSpec::parse("props").unwrap()];
        let issuer = Issuer::open(
            options,
            Arc::new(FixedClock(NOW)),
            Arc::new(IdSource::seeded(11)),
        )
        .unwrap();
        (dir, issuer)
    })
}

fn policy() -> Policy {
    issuer().1.workspace("props").unwrap().default_policy()
}

fn verify_at(token: &str, policy: &Policy, now: i64) -> validate::Report {
    let ws = issuer().1.workspace("props").unwrap();
    validate::verify(token, ws.keyset(), policy, now)
}

/// The reference model of `StringLike`: plain recursion, no shared code with the validator.
fn like_model(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| like_model(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && like_model(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && like_model(rest, &t[1..]),
    }
}

/// The reference model of the time rules.
fn time_model(now: i64, leeway: i64, exp: i64, nbf: Option<i64>, iat: i64) -> bool {
    now < exp + leeway && nbf.is_none_or(|n| n <= now + leeway) && iat <= now + leeway
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn minted_tokens_verify(req in arb_step_request()) {
        let minted = issuer().1.mint(&req).unwrap();
        let report = verify_at(&minted.token, &policy(), NOW);
        prop_assert!(report.accepted, "{:?}", report.reason);
        // Custom audiences are accepted too, when the relying party names one.
        if let Some(aud) = req.audiences.first() {
            let mut p = policy();
            p.audiences = vec![aud.clone()];
            prop_assert!(verify_at(&minted.token, &p, NOW).accepted);
        }
    }

    #[test]
    fn any_single_bit_flip_is_refused(req in arb_step_request(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let token = issuer().1.mint(&req).unwrap().token;
        let mut bytes = token.clone().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let flipped = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(flipped != token);
        prop_assert!(!verify_at(&flipped, &policy(), NOW).accepted, "byte {} bit {}", i, bit);
    }

    #[test]
    fn time_verdicts_match_the_model(
        exp_off in -7200i64..7200,
        nbf_off in prop::option::of(-7200i64..7200),
        iat_off in -7200i64..7200,
        leeway in 0u64..120,
        skew in -300i64..300,
    ) {
        let mut claims = Map::new();
        claims.insert("exp".into(), json!(NOW + exp_off));
        claims.insert("iat".into(), json!(NOW + iat_off));
        if let Some(n) = nbf_off {
            claims.insert("nbf".into(), json!(NOW + n));
        }
        let token = issuer().1.mint(&StepRequest { claims, ..Default::default() }).unwrap().token;
        let mut p = policy();
        p.leeway = leeway;
        let now = NOW + skew;
        let want = time_model(now, leeway as i64, NOW + exp_off, nbf_off.map(|n| NOW + n), NOW + iat_off);
        let report = verify_at(&token, &p, now);
        prop_assert_eq!(report.accepted, want, "{:?}", report.reason);
    }

    #[test]
    fn string_like_matches_the_model(p in arb_pattern(), t in arb_text()) {
        let pc: Vec<char> = p.chars().collect();
        let tc: Vec<char> = t.chars().collect();
        prop_assert_eq!(validate::string_like(&p, &t), like_model(&pc, &tc));
    }

    #[test]
    fn sub_patterns_decide_like_the_model(req in arb_step_request(), p in "[{}a-f0-9:*?-]{0,12}") {
        let minted = issuer().1.mint(&req).unwrap();
        let sub = minted.claims["sub"].as_str().unwrap().to_string();
        let mut pol = policy();
        pol.sub_like = vec![p.clone()];
        let pc: Vec<char> = p.chars().collect();
        let sc: Vec<char> = sub.chars().collect();
        prop_assert_eq!(verify_at(&minted.token, &pol, NOW).accepted, like_model(&pc, &sc));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,300}") {
        let r = verify_at(&s, &policy(), NOW);
        prop_assert!(!r.accepted);
        let _ = stepmint::decode_unverified(&s);
    }

    #[test]
    fn arbitrary_json_claims_never_panic(claims in arb_json(), header_extra in arb_extra_claims()) {
        let payload = serde_json::to_string(&claims).unwrap();
        let minted = issuer().1.craft(&MintRequest {
            step: StepRequest { header: header_extra, ..Default::default() },
            craft: Crafting { payload_json: Some(payload), ..Default::default() },
        }).unwrap();
        let r = verify_at(&minted.token, &policy(), NOW);
        // Arbitrary claims are never a valid step token for this issuer.
        prop_assert!(!r.accepted || claims.get("iss") == Some(&Value::from(issuer().1.workspace("props").unwrap().issuer.clone())));
    }
}

#[test]
fn every_bit_flip_of_one_token_is_refused() {
    let token = issuer().1.mint(&StepRequest::default()).unwrap().token;
    assert!(verify_at(&token, &policy(), NOW).accepted);
    let mut checked = 0;
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut bytes = token.clone().into_bytes();
            bytes[i] ^= 1 << bit;
            let Ok(flipped) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(
                !verify_at(&flipped, &policy(), NOW).accepted,
                "byte {i} bit {bit}"
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        token.len() * 7,
        "every low-7-bit flip stays UTF-8 and was checked"
    );
}

/// Declared policies for the probe's judgement: audiences, a branch condition, a leeway.
fn arb_declared() -> impl Strategy<Value = Policy> {
    (
        proptest::collection::vec("[a-z:/]{1,12}", 0..3),
        proptest::option::of("[a-z]{1,6}"),
        0u64..120,
    )
        .prop_map(|(auds, branch, leeway)| {
            let mut p = policy();
            p.audiences.extend(auds);
            p.leeway = leeway;
            if let Some(b) = branch {
                p.conditions.push(validate::Condition {
                    claim: "branchName".into(),
                    test: validate::Test::Like(b),
                });
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// For any generated token, the probe's expected outcome is the reference validator's
    /// verdict under the declared policy, and replaying it from a saved recipe keeps it.
    #[test]
    fn generated_tokens_are_judged_as_the_validator_does(seed in any::<u64>(), declared in arb_declared()) {
        let (_, issuer) = issuer();
        let genuine = issuer.mint(&StepRequest::default()).unwrap();
        let claims = genuine.claims.as_object().cloned().unwrap_or_default();
        let mut mutator = stepmint::hostile::fuzz::Mutator::new(&declared, &claims, seed);
        for _ in 0..8 {
            let edits = mutator.generate();
            let minted = match issuer.craft(&edited(edits.clone())) {
                Ok(m) => m,
                // A signer that needs a key the ring lacks is refused up front, never a panic.
                Err(e) => { prop_assert!(matches!(e.kind(), stepmint::ErrorKind::InvalidInput { .. }), "{e}"); continue; }
            };
            let expected = stepmint::probe::expected_outcome(issuer, "props", &declared, &minted.token);
            let report = verify_at(&minted.token, &declared, NOW);
            prop_assert_eq!(expected == stepmint::hostile::Outcome::Accept, report.accepted, "{:?}", edits);
            let recipe = stepmint::hostile::Recipe { name: "r".into(), description: None, expected: None, step: Default::default(), edits: edits.clone() };
            let again = stepmint::hostile::Recipe::from_toml(&recipe.to_toml().unwrap(), std::path::Path::new("r.toml")).unwrap();
            prop_assert_eq!(&again.edits, &edits);
            let replayed = issuer.craft(&edited(again.edits)).unwrap();
            prop_assert_eq!(verify_at(&replayed.token, &declared, NOW).accepted, report.accepted, "{:?}", edits);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever a slug or kid holds, a control-API path keeps it in its own segment: as many
    /// `/` as segments, no `..` step, nothing that ends the path, and it decodes back.
    #[test]
    fn control_paths_keep_every_segment_in_place(a in "\\PC{0,24}", b in "[./%?#\\\\a-z]{0,12}") {
        let path = stepmint::paths::control_path(&["workspaces", &a, "keys", &b]);
        prop_assert_eq!(path.matches('/').count(), 4, "{}", path);
        prop_assert!(!path.contains(['?', '#', ' ', '\\']), "{}", path);
        prop_assert!(path.split('/').all(|s| s != ".." && s != "."), "{}", path);
        let decode = |s: &str| {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        let parts: Vec<String> = path.split('/').skip(1).map(decode).collect();
        prop_assert_eq!(parts, vec!["workspaces".to_string(), a, "keys".into(), b]);
    }

    /// Escaped text has nothing a terminal acts on, and text with nothing to escape is left alone.
    #[test]
    fn printable_text_is_terminal_safe(s in "\\PC{0,40}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a ]{0,40}") {
        let shown = stepmint::printable(&s);
        prop_assert!(!shown.chars().any(stepmint::is_unprintable), "{:?}", shown);
        if !s.chars().any(stepmint::is_unprintable) {
            prop_assert_eq!(shown.as_ref(), s.as_str());
        }
    }
}
