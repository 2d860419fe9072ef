//! Policy-boundary cases: tokens generated from what a relying party declares (its audiences,
//! `sub` patterns, claim conditions, issuer and leeway), each genuine but for one member that a
//! loose comparison (prefix, substring, list membership, case-insensitive, unanchored pattern,
//! type coercion, normalisation) would take for the declared value.
//!
//! Every case is a list of [`Edit`]s to the genuine token; whether a strict relying party
//! accepts it is not written here but decided by the reference validator under the declared
//! policy, so a variant that happens to satisfy the policy is simply expected to be accepted.

use serde_json::{Map, Value, json};

use crate::token::Edit;
use crate::validate::{Policy, Test, string_like};

/// A value transformation, as `stepmint cases` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generator {
    /// Its name, the last part of each case it makes (`policy-aud-suffix`).
    pub name: &'static str,
    /// What it is applied to: `string`, `sub`, `aud`, `iss`, `time`, `typed`.
    pub applies_to: &'static str,
    /// What it makes.
    pub description: &'static str,
}

const fn g(name: &'static str, applies_to: &'static str, description: &'static str) -> Generator {
    Generator {
        name,
        applies_to,
        description,
    }
}

/// Every generator, in the order cases are made.
pub static GENERATORS: &[Generator] = &[
    g(
        "suffix",
        "string",
        "the declared value with `-evil` appended (prefix comparison)",
    ),
    g(
        "prefix",
        "string",
        "`evil-` prepended (suffix comparison, unanchored pattern)",
    ),
    g(
        "embedded",
        "string",
        "inside a longer value (substring comparison)",
    ),
    g(
        "case-upper",
        "string",
        "upper-cased (case-insensitive comparison)",
    ),
    g(
        "case-lower",
        "string",
        "lower-cased (case-insensitive comparison)",
    ),
    g(
        "lookalike",
        "string",
        "one letter replaced by a Cyrillic look-alike",
    ),
    g(
        "fullwidth",
        "string",
        "one character in its full-width form (NFKC folds it back)",
    ),
    g(
        "zero-width",
        "string",
        "a zero-width space inside (stripped by some normalisers)",
    ),
    g(
        "whitespace",
        "string",
        "surrounded by spaces (trimming comparison)",
    ),
    g("newline", "string", "a trailing CR LF"),
    g("nul", "string", "`\\0evil` appended (C-string comparison)"),
    g(
        "truncated",
        "string",
        "the last character dropped (reverse prefix comparison)",
    ),
    g(
        "half",
        "string",
        "the first half only (reverse substring comparison)",
    ),
    g(
        "array-alone",
        "string",
        "an array holding only the value, where a string is expected",
    ),
    g(
        "array-foreign-first",
        "string",
        "an array: a foreign value, then the declared one",
    ),
    g(
        "array-foreign-last",
        "string",
        "an array: the declared value, then a foreign one",
    ),
    g("number", "string", "a number (its numeric reading, or 0)"),
    g(
        "boolean",
        "string",
        "a boolean (`true`, or its own reading)",
    ),
    g("object", "string", "an object holding the value"),
    g("null", "string", "JSON null"),
    g(
        "only-lookalikes",
        "aud",
        "an `aud` array holding only look-alikes of the declared value",
    ),
    g("trailing-slash", "iss", "the issuer with a trailing `/`"),
    g("http", "iss", "the issuer over `http://`"),
    g("segment-extra", "sub", "an extra `:` segment appended"),
    g("segment-missing", "sub", "the last `:` segment dropped"),
    g("env-dropped", "sub", "the environment segment dropped"),
    g(
        "env-moved",
        "sub",
        "the environment segment moved to the end",
    ),
    g(
        "other-repository",
        "sub",
        "another repository's UUID, the rest unchanged",
    ),
    g(
        "repository-suffix",
        "sub",
        "text appended to the repository segment",
    ),
    g(
        "literal-pattern",
        "sub",
        "the declared pattern itself, `*` and `?` as literal text",
    ),
    g(
        "star-segment",
        "sub",
        "the last segment replaced by a literal `*`",
    ),
    g(
        "coerced-string",
        "typed",
        "a declared number or boolean sent as its string",
    ),
    g(
        "exp-beyond-leeway",
        "time",
        "`exp` 90 s further in the past than the declared leeway",
    ),
    g(
        "exp-within-leeway",
        "time",
        "`exp` in the past by half the declared leeway",
    ),
    g(
        "nbf-beyond-leeway",
        "time",
        "`nbf` 90 s further in the future than the leeway",
    ),
    g(
        "iat-beyond-leeway",
        "time",
        "`iat` 90 s further in the future than the leeway",
    ),
    g(
        "iat-beyond-max-age",
        "time",
        "`iat` 90 s older than the declared maximum age",
    ),
];

/// One generated case.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryCase {
    /// `policy-aud-suffix`, `policy-claim-branchName-nul-2`.
    pub name: String,
    /// `policy:aud`, `policy:sub`, `policy:claim:branchName`, `policy:iss`, `policy:time`.
    pub family: String,
    /// One line for people.
    pub description: String,
    /// The edits to the genuine token.
    pub edits: Vec<Edit>,
}

const FOREIGN: &str = "evil";

fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        'i' => 'і',
        's' => 'ѕ',
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        _ => return None,
    })
}

fn replace_first(v: &str, f: impl Fn(char) -> Option<char>) -> Option<String> {
    let (i, c, r) = v
        .char_indices()
        .find_map(|(i, c)| f(c).map(|r| (i, c, r)))?;
    Some(format!("{}{r}{}", &v[..i], &v[i + c.len_utf8()..]))
}

fn first_half(v: &str) -> String {
    let n = v.chars().count();
    v.chars().take(n / 2).collect()
}

/// The string generators applied to `v`: (generator, value).
fn string_variants(v: &str) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Value)> = vec![
        ("suffix", format!("{v}-{FOREIGN}").into()),
        ("prefix", format!("{FOREIGN}-{v}").into()),
        ("embedded", format!("{FOREIGN}-{v}-{FOREIGN}").into()),
        ("case-upper", v.to_uppercase().into()),
        ("case-lower", v.to_lowercase().into()),
    ];
    if let Some(s) = replace_first(v, lookalike) {
        out.push(("lookalike", s.into()));
    }
    if let Some(s) = replace_first(v, |c| {
        c.is_ascii_alphanumeric()
            .then(|| char::from_u32(c as u32 + 0xFEE0))
            .flatten()
    }) {
        out.push(("fullwidth", s.into()));
    }
    if let Some((i, c)) = v.char_indices().next() {
        let at = i + c.len_utf8();
        out.push((
            "zero-width",
            format!("{}\u{200B}{}", &v[..at], &v[at..]).into(),
        ));
    }
    out.push(("whitespace", format!(" {v} ").into()));
    out.push(("newline", format!("{v}\r\n").into()));
    out.push(("nul", format!("{v}\u{0}{FOREIGN}").into()));
    if v.chars().count() >= 2 {
        let mut t: Vec<char> = v.chars().collect();
        t.pop();
        out.push(("truncated", t.into_iter().collect::<String>().into()));
    }
    if v.chars().count() >= 4 {
        out.push(("half", first_half(v).into()));
    }
    out.push(("array-alone", json!([v])));
    out.push(("array-foreign-first", json!([FOREIGN, v])));
    out.push(("array-foreign-last", json!([v, FOREIGN])));
    let number = v
        .trim()
        .parse::<i64>()
        .map(Value::from)
        .or_else(|_| v.trim().parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::from(0));
    out.push(("number", number));
    let boolean = !matches!(v.trim(), "false" | "False" | "0");
    out.push(("boolean", boolean.into()));
    out.push(("object", json!({ "value": v })));
    out.push(("null", Value::Null));
    out
}

/// Variants of a declared non-string value (number, boolean): its string form, wrapped, null.
fn typed_variants(v: &Value) -> Vec<(&'static str, Value)> {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    vec![
        ("coerced-string", text.into()),
        ("array-alone", json!([v])),
        ("array-foreign-first", json!([FOREIGN, v])),
        ("object", json!({ "value": v })),
        ("null", Value::Null),
    ]
}

/// A slot's cases: one per distinct variant value, named after the slot and generator.
struct Slot<'a> {
    out: &'a mut Vec<BoundaryCase>,
    family: String,
    prefix: String,
    what: String,
}

impl Slot<'_> {
    fn push_all(&mut self, claim: &str, base: &Value, variants: Vec<(&'static str, Value)>) {
        let mut seen: Vec<Value> = vec![base.clone()];
        for (generator, value) in variants {
            if seen.contains(&value) {
                continue;
            }
            seen.push(value.clone());
            self.push(
                generator,
                vec![Edit::SetClaim {
                    name: claim.into(),
                    value,
                }],
            );
        }
    }

    fn push(&mut self, generator: &'static str, edits: Vec<Edit>) {
        let description = GENERATORS
            .iter()
            .find(|g| g.name == generator)
            .map_or("", |g| g.description);
        self.out.push(BoundaryCase {
            name: format!("{}-{generator}", self.prefix),
            family: self.family.clone(),
            description: format!("{}: {description}", self.what),
            edits,
        });
    }
}

/// A slot prefix for the `n`th (0-based) value of a slot: `policy-aud`, then `policy-aud-2`.
fn nth(prefix: &str, n: usize) -> String {
    if n == 0 {
        prefix.to_string()
    } else {
        format!("{prefix}{}", n + 1)
    }
}

/// Every policy-boundary case for `policy`, given the genuine claims a baseline token carries.
pub fn boundary_cases(policy: &Policy, claims: &Map<String, Value>) -> Vec<BoundaryCase> {
    let mut out = Vec::new();
    for (n, aud) in policy.audiences.iter().enumerate() {
        let mut slot = Slot {
            out: &mut out,
            family: "policy:aud".into(),
            prefix: nth("policy-aud", n),
            what: format!("`aud` vs declared {aud:?}"),
        };
        slot.push_all("aud", &Value::from(aud.as_str()), string_variants(aud));
        let mut looks: Vec<Value> = vec![
            format!("{aud}-{FOREIGN}").into(),
            format!("{FOREIGN}-{aud}").into(),
        ];
        let upper = aud.to_uppercase();
        if upper != *aud {
            looks.push(upper.into());
        }
        if let Some(l) = replace_first(aud, lookalike) {
            looks.push(l.into());
        }
        slot.push(
            "only-lookalikes",
            vec![Edit::SetClaim {
                name: "aud".into(),
                value: Value::Array(looks),
            }],
        );
    }
    if let Some(iss) = &policy.issuer {
        let mut slot = Slot {
            out: &mut out,
            family: "policy:iss".into(),
            prefix: "policy-iss".into(),
            what: format!("`iss` vs declared {iss:?}"),
        };
        let mut variants = string_variants(iss);
        variants.push(("trailing-slash", format!("{iss}/").into()));
        if let Some(rest) = iss.strip_prefix("https://") {
            variants.push(("http", format!("http://{rest}").into()));
        }
        slot.push_all("iss", &Value::from(iss.as_str()), variants);
    }
    if !policy.sub_like.is_empty() {
        sub_cases(&mut out, policy, claims);
    }
    for (n, cond) in policy.conditions.iter().enumerate() {
        let same_claim_before = policy.conditions[..n]
            .iter()
            .filter(|c| c.claim == cond.claim)
            .count();
        let base = claims
            .get(&cond.claim)
            .filter(|v| cond.holds(Some(v)))
            .cloned()
            .or_else(|| match &cond.test {
                Test::Equals(v) => Some(v.clone()),
                Test::OneOf(vs) => vs.first().cloned(),
                Test::Like(p) => Some(p.replace(['*', '?'], "x").into()),
            });
        let Some(base) = base else { continue };
        let mut slot = Slot {
            out: &mut out,
            family: format!("policy:claim:{}", cond.claim),
            prefix: nth(&format!("policy-claim-{}", cond.claim), same_claim_before),
            what: format!("`{}` vs its declared condition", cond.claim),
        };
        let mut variants = match &base {
            Value::String(s) => string_variants(s),
            other => typed_variants(other),
        };
        if let Test::Like(p) = &cond.test
            && p.contains(['*', '?'])
        {
            variants.push(("literal-pattern", p.clone().into()));
        }
        slot.push_all(&cond.claim, &base, variants);
    }
    time_cases(&mut out, policy);
    out
}

fn sub_cases(out: &mut Vec<BoundaryCase>, policy: &Policy, claims: &Map<String, Value>) {
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return;
    };
    let mut slot = Slot {
        out,
        family: "policy:sub".into(),
        prefix: "policy-sub".into(),
        what: format!("`sub` vs declared patterns {:?}", policy.sub_like),
    };
    let mut variants = string_variants(sub);
    let segments: Vec<&str> = sub.split(':').collect();
    variants.push(("segment-extra", format!("{sub}:{{{FOREIGN}}}").into()));
    if segments.len() >= 2 {
        variants.push((
            "segment-missing",
            segments[..segments.len() - 1].join(":").into(),
        ));
        let mut star = segments.clone();
        if let Some(last) = star.last_mut() {
            *last = "*";
        }
        variants.push(("star-segment", star.join(":").into()));
    }
    if segments.len() == 3 {
        variants.push((
            "env-dropped",
            format!("{}:{}", segments[0], segments[2]).into(),
        ));
        variants.push((
            "env-moved",
            format!("{}:{}:{}", segments[0], segments[2], segments[1]).into(),
        ));
    }
    if let Some(first) = segments.first() {
        let rest = &sub[first.len()..];
        if let Some(other) = replace_first(first, |c| match c {
            '0'..='8' | 'a'..='e' => char::from_u32(c as u32 + 1),
            '9' => Some('a'),
            'f' => Some('0'),
            _ => None,
        }) {
            variants.push(("other-repository", format!("{other}{rest}").into()));
        }
        let inner = match first.strip_suffix('}') {
            Some(open) => format!("{open}-{FOREIGN}}}"),
            None => format!("{first}-{FOREIGN}"),
        };
        variants.push(("repository-suffix", format!("{inner}{rest}").into()));
    }
    for p in &policy.sub_like {
        if p.contains(['*', '?']) && !policy.sub_like.iter().any(|q| q != p && string_like(q, p)) {
            variants.push(("literal-pattern", p.clone().into()));
        }
    }
    slot.push_all("sub", &Value::from(sub), variants);
}

/// How far past the declared leeway the "beyond" time cases go: far enough that a relying party
/// whose clock is a little off, or whose leeway a little larger, still must refuse.
pub const BEYOND: i64 = 90;

fn time_cases(out: &mut Vec<BoundaryCase>, policy: &Policy) {
    let leeway = i64::try_from(policy.leeway).unwrap_or(i64::MAX / 4);
    let mut slot = Slot {
        out,
        family: "policy:time".into(),
        prefix: "policy-time".into(),
        what: format!("times vs the declared leeway of {leeway} s"),
    };
    let time = |name: &str, offset: i64| Edit::SetTime {
        name: name.into(),
        offset,
    };
    slot.push(
        "exp-beyond-leeway",
        vec![time("iat", -3600 - leeway), time("exp", -(leeway + BEYOND))],
    );
    if leeway >= 10 {
        slot.push(
            "exp-within-leeway",
            vec![time("iat", -3600), time("exp", -(leeway / 2))],
        );
    }
    slot.push("nbf-beyond-leeway", vec![time("nbf", leeway + BEYOND)]);
    slot.push(
        "iat-beyond-leeway",
        vec![
            time("iat", leeway + BEYOND),
            time("exp", leeway + BEYOND + 3600),
        ],
    );
    if let Some(max_age) = policy.max_age.and_then(|m| i64::try_from(m).ok()) {
        slot.push(
            "iat-beyond-max-age",
            vec![time("iat", -(max_age + leeway + BEYOND)), time("exp", 600)],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Condition;

    fn claims() -> Map<String, Value> {
        json!({
            "iss": "https://i/x",
            "aud": ["ari:ws", "api://deploy"],
            "sub": "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}:{11111111-2f3a-4d4b-9a55-1b2c3d4e5f60}",
            "branchName": "main",
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn every_declared_value_gets_cases_named_by_slot() {
        let policy = Policy {
            issuer: Some("https://i/x".into()),
            audiences: vec!["api://deploy".into(), "api://other".into()],
            sub_like: vec!["{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}:*".into()],
            conditions: vec![Condition {
                claim: "branchName".into(),
                test: Test::Equals("main".into()),
            }],
            ..Policy::default()
        };
        let cases = boundary_cases(&policy, &claims());
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        for want in [
            "policy-aud-suffix",
            "policy-aud2-suffix",
            "policy-aud-only-lookalikes",
            "policy-iss-trailing-slash",
            "policy-sub-prefix",
            "policy-sub-star-segment",
            "policy-sub-other-repository",
            "policy-claim-branchName-suffix",
            "policy-claim-branchName-case-upper",
            "policy-claim-branchName-array-alone",
            "policy-time-exp-beyond-leeway",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "names are unique");
        for c in &cases {
            assert!(c.family.starts_with("policy:"), "{}", c.family);
            assert!(!c.edits.is_empty(), "{}", c.name);
            assert!(
                GENERATORS.iter().any(|g| c.name.ends_with(g.name)),
                "{} has a listed generator",
                c.name
            );
        }
    }

    #[test]
    fn variants_differ_from_the_declared_value() {
        for v in ["main", "api://deploy", "é", "1", "x", "MAIN"] {
            let policy = Policy {
                conditions: vec![Condition {
                    claim: "branchName".into(),
                    test: Test::Equals(v.into()),
                }],
                ..Policy::default()
            };
            let mut c = claims();
            c.insert("branchName".into(), v.into());
            let cases = boundary_cases(&policy, &c);
            let values: Vec<&Value> = cases
                .iter()
                .flat_map(|c| &c.edits)
                .filter_map(|e| match e {
                    Edit::SetClaim { name, value } if name == "branchName" => Some(value),
                    _ => None,
                })
                .collect();
            assert!(values.len() >= 15, "{v}: {values:?}");
            assert!(!values.contains(&&Value::from(v)), "{v}: {values:?}");
        }
        assert_eq!(
            replace_first("main", lookalike).as_deref(),
            Some("m\u{430}in"),
            "Cyrillic a"
        );
    }

    #[test]
    fn nothing_declared_means_time_cases_only() {
        let cases = boundary_cases(&Policy::default(), &claims());
        assert!(cases.iter().all(|c| c.family == "policy:time"), "{cases:?}");
    }
}
