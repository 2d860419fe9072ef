//! What a relying party accepts: [`Policy`], plain data with documented defaults, and the AWS
//! `StringLike` matching its patterns use.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Header members a step token must not carry: each asks the verifier to change how it finds
/// the key or reads the payload.
pub const FORBIDDEN_HEADERS: [&str; 7] = ["crit", "b64", "zip", "jku", "x5u", "jwk", "x5c"];

/// Validation rules for step tokens. `Policy::default()` checks structure, signature and the
/// registered claims but names no issuer or audience: use [`Policy::for_issuer`] for a
/// workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct Policy {
    /// `iss` must equal this exactly. Default: none (not checked).
    pub issuer: Option<String>,
    /// `aud` must contain at least one of these. Default: empty (not checked).
    pub audiences: Vec<String>,
    /// Allowed `alg` values. Default: `["RS256"]`.
    pub algorithms: Vec<String>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds. Default: 30.
    pub leeway: u64,
    /// The oldest `iat` accepted, in seconds before now. Default: none.
    pub max_age: Option<u64>,
    /// Claims that must be present. Default: `iss aud sub iat exp`.
    pub required_claims: Vec<String>,
    /// `sub` must match one of these AWS `StringLike` patterns (`*`, `?`). Default: none.
    pub sub_like: Vec<String>,
    /// Conditions on any claim. Default: none.
    pub conditions: Vec<Condition>,
    /// Longest token accepted, in bytes. Default: 16 KiB.
    pub max_token_len: usize,
    /// Deepest JSON nesting accepted in header and payload. Default: 32.
    pub max_depth: usize,
    /// Refuse tokens without a `kid` header. Default: true (Bitbucket always sends one).
    pub require_kid: bool,
    /// Header members that make a token refused. Default: `crit b64 zip jku x5u jwk x5c`.
    pub forbidden_headers: Vec<String>,
    /// Check the payload's claims at all. Default: true; false checks structure and signature
    /// only (for JOSE test vectors whose payload is not a claim set).
    pub check_claims: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            issuer: None,
            audiences: Vec::new(),
            algorithms: vec!["RS256".into()],
            leeway: 30,
            max_age: None,
            required_claims: ["iss", "aud", "sub", "iat", "exp"]
                .map(String::from)
                .to_vec(),
            sub_like: Vec::new(),
            conditions: Vec::new(),
            max_token_len: 16 * 1024,
            max_depth: 32,
            require_kid: true,
            forbidden_headers: FORBIDDEN_HEADERS.iter().map(|h| h.to_string()).collect(),
            check_claims: true,
        }
    }
}

impl Policy {
    /// The default policy for tokens of `issuer` meant for `audience`.
    pub fn for_issuer(issuer: impl Into<String>, audience: impl Into<String>) -> Policy {
        Policy {
            issuer: Some(issuer.into()),
            audiences: vec![audience.into()],
            ..Policy::default()
        }
    }

    /// Structure and signature only, for `algorithms` (JOSE test vectors).
    pub fn signature_only(algorithms: &[&str]) -> Policy {
        Policy {
            algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
            required_claims: Vec::new(),
            require_kid: false,
            check_claims: false,
            ..Policy::default()
        }
    }
}

/// A condition on one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Condition {
    /// The claim name.
    pub claim: String,
    /// The test.
    #[serde(flatten)]
    pub test: Test,
}

/// How a claim is tested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    /// Equal to this JSON value.
    Equals(Value),
    /// A string matching this `StringLike` pattern.
    Like(String),
    /// Equal to one of these values.
    OneOf(Vec<Value>),
}

impl std::fmt::Display for Test {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Test::Equals(v) => write!(f, "equal {v}"),
            Test::Like(p) => write!(f, "be a string like {}", Value::from(p.as_str())),
            Test::OneOf(vs) => write!(f, "be one of {}", Value::from(vs.clone())),
        }
    }
}

impl Condition {
    /// `KEY=PATTERN` (as `--claim` takes it): the claim must be a string matching the
    /// `StringLike` pattern.
    pub fn parse(text: &str) -> crate::error::Result<Condition> {
        match text.split_once('=') {
            Some((claim, pattern)) if !claim.trim().is_empty() => Ok(Condition {
                claim: claim.trim().into(),
                test: Test::Like(pattern.into()),
            }),
            _ => Err(crate::error::Error::invalid(
                "claim",
                format!("`{text}`: expected KEY=PATTERN"),
            )),
        }
    }

    /// Whether `value` (the claim, or `None` when absent) passes.
    pub fn holds(&self, value: Option<&Value>) -> bool {
        let Some(v) = value else { return false };
        match &self.test {
            Test::Equals(want) => v == want,
            Test::Like(pattern) => v.as_str().is_some_and(|s| string_like(pattern, s)),
            Test::OneOf(options) => options.contains(v),
        }
    }
}

/// AWS IAM `StringLike`: `*` matches any run of characters (also none), `?` exactly one;
/// everything else matches itself, case-sensitively.
///
/// Linear in the text for the patterns policies hold: the pattern is cut at its `*`s, the first
/// piece must start the text and the last end it, and each piece between is found leftmost
/// after the one before (KMP, or a bit-parallel scan for a piece with `?`). Backtracking to the
/// last star, the classic loop, is quadratic on `*aaaa…b` against `aaaa…`; a relying party's
/// `sub` must not cost a validator that.
pub fn string_like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let pieces: Vec<&[char]> = p.split(|&c| c == '*').collect();
    let (first, last) = match pieces.as_slice() {
        [only] => return only.len() == t.len() && piece_at(only, &t, 0),
        [first, .., last] => (*first, *last),
        [] => return t.is_empty(),
    };
    if first.len() + last.len() > t.len()
        || !piece_at(first, &t, 0)
        || !piece_at(last, &t, t.len() - last.len())
    {
        return false;
    }
    let end = t.len() - last.len();
    let mut pos = first.len();
    for piece in &pieces[1..pieces.len() - 1] {
        if piece.is_empty() {
            continue;
        }
        match find_piece(piece, &t[pos..end]) {
            Some(i) => pos += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// Whether `piece` (literals and `?`) matches `t` at `at`.
fn piece_at(piece: &[char], t: &[char], at: usize) -> bool {
    t.len() >= at + piece.len()
        && piece
            .iter()
            .zip(&t[at..])
            .all(|(&p, &c)| p == '?' || p == c)
}

/// The leftmost position of `piece` in `t`.
fn find_piece(piece: &[char], t: &[char]) -> Option<usize> {
    if piece.len() > t.len() {
        return None;
    }
    if piece.contains(&'?') {
        find_with_wildcards(piece, t)
    } else {
        find_literal(piece, t)
    }
}

/// Knuth-Morris-Pratt: O(|t| + |piece|).
fn find_literal(piece: &[char], t: &[char]) -> Option<usize> {
    let mut fail = vec![0usize; piece.len()];
    let mut k = 0;
    for i in 1..piece.len() {
        while k > 0 && piece[i] != piece[k] {
            k = fail[k - 1];
        }
        if piece[i] == piece[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut k = 0;
    for (i, &c) in t.iter().enumerate() {
        while k > 0 && c != piece[k] {
            k = fail[k - 1];
        }
        if c == piece[k] {
            k += 1;
        }
        if k == piece.len() {
            return Some(i + 1 - k);
        }
    }
    None
}

/// Shift-And over the piece's positions, 64 to a word: O(|t| x |piece| / 64).
fn find_with_wildcards(piece: &[char], t: &[char]) -> Option<usize> {
    let m = piece.len();
    let words = m.div_ceil(64);
    let bit = |i: usize| (i / 64, 1u64 << (i % 64));
    let mut any = vec![0u64; words];
    let mut masks: std::collections::HashMap<char, Vec<u64>> = std::collections::HashMap::new();
    for (i, &c) in piece.iter().enumerate() {
        let (w, b) = bit(i);
        if c == '?' {
            any[w] |= b;
        } else {
            masks.entry(c).or_insert_with(|| vec![0; words])[w] |= b;
        }
    }
    let (last_w, last_b) = bit(m - 1);
    let mut d = vec![0u64; words];
    for (i, c) in t.iter().enumerate() {
        // d = ((d << 1) | 1) & (mask[c] | any)
        let mut carry = 1u64;
        let mask = masks.get(c);
        for w in 0..words {
            let next_carry = d[w] >> 63;
            let allowed = any[w] | mask.map_or(0, |m| m[w]);
            d[w] = ((d[w] << 1) | carry) & allowed;
            carry = next_carry;
        }
        if d[last_w] & last_b != 0 {
            return Some(i + 1 - m);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_semantics() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "anything", true),
            ("?", "", false),
            ("?", "a", true),
            ("a*c", "abbbc", true),
            ("a*c", "ab", false),
            ("{*}:{*}", "{r}:{s}", true),
            ("release/*", "release/1.0", true),
            ("release/*", "Release/1.0", false),
            ("*x*y", "axbxcy", true),
            ("a?c", "abbc", false),
            ("é?", "éx", true),
            ("a*", "a*b", true),
            ("*a", "*ba", true),
            ("?", "*", true),
        ] {
            assert_eq!(string_like(p, t), want, "{p} ~ {t}");
        }
    }

    /// The matcher this one replaced: greedy, backtracking to the last star.
    fn backtracking(pattern: &str, text: &str) -> bool {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ti));
                pi += 1;
            } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if let Some((sp, st)) = star {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn agrees_with_the_backtracking_matcher(p in "[ab*?é]{0,12}", t in "[abé*?]{0,16}") {
            proptest::prop_assert_eq!(string_like(&p, &t), backtracking(&p, &t), "{} ~ {}", p, t);
        }

        #[test]
        fn long_pieces_with_wildcards_agree(p in "[ab?]{60,140}", t in "[ab]{60,200}", star in proptest::bool::ANY) {
            let p = if star { format!("*{p}*") } else { p };
            proptest::prop_assert_eq!(string_like(&p, &t), backtracking(&p, &t));
        }
    }

    #[test]
    fn the_quadratic_case_is_linear() {
        // The attack input: under backtracking about n * m / 2 steps.
        let text = "a".repeat(11_000);
        let pattern = format!("*{}b", "a".repeat(5_500));
        assert!(!string_like(&pattern, &text));
        assert!(string_like(&pattern, &format!("{text}b")));
        let wild = format!("*{}?b", "a?".repeat(2_000));
        assert!(!string_like(&wild, &text));
    }

    #[test]
    fn conditions_serialize_flat() {
        let c: Condition = serde_json::from_str(r#"{"claim":"branchName","like":"main"}"#).unwrap();
        assert!(c.holds(Some(&Value::from("main"))));
        assert!(!c.holds(None));
        let c: Condition = serde_json::from_str(r#"{"claim":"n","one-of":[1,2]}"#).unwrap();
        assert!(c.holds(Some(&Value::from(2))) && !c.holds(Some(&Value::from(3))));
    }
}
