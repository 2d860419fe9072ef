//! The catalogue: every named hostile or edge-case token, what a strict relying party must do
//! with it, and why. Builders for the time and identity families live here; the cryptographic,
//! structural and parser families in `cases_crypto.rs`.

use serde_json::{Map, Value, json};

use super::cases_crypto as crypto;
use super::ctx::Ctx;
use super::forge::{Forged, Sig, signed};
use super::kinds::{Expected, Family, Needs, Outcome};
use crate::error::Result;

/// One catalogue entry.
pub struct Case {
    /// Stable kebab-case name.
    pub name: &'static str,
    /// Family.
    pub family: Family,
    /// One line on what the token is.
    pub description: &'static str,
    /// What a strict relying party must do.
    pub expected: Expected,
    /// CVE, RFC section, or Bitbucket behaviour.
    pub reference: &'static str,
    /// What the builder needs beyond the genuine token.
    pub needs: Needs,
    pub(crate) build: fn(&Ctx<'_>) -> Result<Forged>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

const fn case(
    name: &'static str,
    family: Family,
    description: &'static str,
    expected: Expected,
    reference: &'static str,
    build: fn(&Ctx<'_>) -> Result<Forged>,
) -> Case {
    Case {
        name,
        family,
        description,
        expected,
        reference,
        needs: Needs::Nothing,
        build,
    }
}

impl Case {
    const fn needing(mut self, needs: Needs) -> Case {
        self.needs = needs;
        self
    }
}

const fn policy(rule: &'static str, by_default: Outcome) -> Expected {
    Expected::Policy { rule, by_default }
}

use Expected::{Accept as A, Refuse as R};
use Family::*;

const SUB_RULE: &str = "refuse when the relying party pins `sub` or `repositoryUuid` (sub-like pattern or claim condition); accepted when it does not";

/// Every case, in a stable order.
pub static CATALOGUE: &[Case] = &[
    case(
        "valid",
        Baseline,
        "a genuine step token, exactly as Bitbucket issues it",
        A,
        "Bitbucket Pipelines OIDC",
        |c| c.with_claims(|_, _| {}),
    ),
    // Time.
    case(
        "expired",
        Time,
        "`exp` 120 s in the past",
        R,
        "RFC 7519 §4.1.4",
        |c| {
            c.with_claims(|m, now| {
                m.insert("iat".into(), (now - 3720).into());
                m.insert("exp".into(), (now - 120).into());
            })
        },
    ),
    case(
        "expired-within-leeway",
        Time,
        "`exp` 10 s in the past, inside a 30 s leeway",
        policy(
            "accepted with a clock-skew leeway of at least 10 s (default 30 s); refused with none",
            Outcome::Accept,
        ),
        "RFC 7519 §4.1.4 (leeway)",
        |c| {
            c.with_claims(|m, now| {
                m.insert("iat".into(), (now - 3610).into());
                m.insert("exp".into(), (now - 10).into());
            })
        },
    ),
    case(
        "nbf-future",
        Time,
        "`nbf` 300 s in the future",
        R,
        "RFC 7519 §4.1.5",
        |c| {
            c.with_claims(|m, now| {
                m.insert("nbf".into(), (now + 300).into());
            })
        },
    ),
    case(
        "iat-future",
        Time,
        "`iat` 300 s in the future",
        R,
        "RFC 7519 §4.1.6; OIDC Core §3.1.3.7",
        |c| {
            c.with_claims(|m, now| {
                m.insert("iat".into(), (now + 300).into());
                m.insert("exp".into(), (now + 3900).into());
            })
        },
    ),
    case(
        "exp-string",
        Time,
        "`exp` as a JSON string of digits",
        R,
        "RFC 7519 §2 (NumericDate is a number)",
        |c| {
            c.with_claims(|m, now| {
                m.insert("exp".into(), (now + 3600).to_string().into());
            })
        },
    ),
    case(
        "exp-float",
        Time,
        "`exp` as a non-integer number (valid NumericDate)",
        A,
        "RFC 7519 §2",
        |c| {
            c.with_claims(|m, now| {
                m.insert("exp".into(), json!(now as f64 + 3600.5));
            })
        },
    ),
    case(
        "missing-exp",
        Time,
        "no `exp` claim",
        R,
        "OIDC Core §2 (exp REQUIRED)",
        |c| {
            c.with_claims(|m, _| {
                m.shift_remove("exp");
            })
        },
    ),
    case(
        "missing-iat",
        Time,
        "no `iat` claim",
        R,
        "OIDC Core §2 (iat REQUIRED)",
        |c| {
            c.with_claims(|m, _| {
                m.shift_remove("iat");
            })
        },
    ),
    // Identity.
    case(
        "missing-iss",
        Identity,
        "no `iss` claim",
        R,
        "OIDC Core §2 (iss REQUIRED)",
        |c| {
            c.with_claims(|m, _| {
                m.shift_remove("iss");
            })
        },
    ),
    case(
        "missing-aud",
        Identity,
        "no `aud` claim",
        R,
        "OIDC Core §2 (aud REQUIRED)",
        |c| {
            c.with_claims(|m, _| {
                m.shift_remove("aud");
            })
        },
    ),
    case(
        "missing-sub",
        Identity,
        "no `sub` claim",
        R,
        "OIDC Core §2 (sub REQUIRED)",
        |c| {
            c.with_claims(|m, _| {
                m.shift_remove("sub");
            })
        },
    ),
    case(
        "iss-trailing-slash",
        Identity,
        "`iss` with a trailing slash",
        R,
        "OIDC Core §3.1.3.7 (exact match)",
        |c| c.with_iss(|i| format!("{i}/")),
    ),
    case(
        "iss-http",
        Identity,
        "`iss` with `http://` instead of `https://`",
        R,
        "OIDC Core §3.1.3.7 (exact match)",
        |c| c.with_iss(|i| i.replacen("https://", "http://", 1)),
    ),
    case(
        "iss-other-workspace",
        Identity,
        "`iss` of another workspace, signed by this workspace's key",
        R,
        "Bitbucket: one issuer per workspace",
        |c| c.with_iss(|i| other_workspace_issuer(i, &c.workspace.slug)),
    ),
    case(
        "iss-case-changed",
        Identity,
        "`iss` with the workspace slug upper-cased",
        R,
        "OIDC Core §3.1.3.7 (exact match)",
        |c| {
            let slug = &c.workspace.slug;
            c.with_iss(|i| {
                i.replace(
                    &format!("/workspaces/{slug}/"),
                    &format!("/workspaces/{}/", slug.to_uppercase()),
                )
            })
        },
    ),
    case(
        "iss-nul-suffix",
        Identity,
        "`iss` followed by a NUL character",
        R,
        "C-string truncation (CWE-158)",
        |c| c.with_iss(|i| format!("{i}\u{0}")),
    ),
    case(
        "aud-wrong",
        Identity,
        "`aud` of another workspace",
        R,
        "RFC 7519 §4.1.3",
        |c| {
            c.with_claims(|m, _| {
                m.insert(
                    "aud".into(),
                    "ari:cloud:bitbucket::workspace/00000000-0000-4000-8000-000000000000".into(),
                );
            })
        },
    ),
    case(
        "aud-array-extra-foreign",
        Identity,
        "`aud` array with the expected audience and a foreign one",
        policy(
            "accepted when any audience is trusted (RFC 7519); refused by clients that distrust extra audiences (OIDC Core §3.1.3.7 item 3)",
            Outcome::Accept,
        ),
        "RFC 7519 §4.1.3; OIDC Core §3.1.3.7",
        |c| {
            c.with_claims(|m, _| {
                let aud = m.get("aud").cloned().unwrap_or(Value::Null);
                let mut all = match aud {
                    Value::Array(a) => a,
                    v => vec![v],
                };
                all.push("https://attacker.invalid".into());
                m.insert("aud".into(), Value::Array(all));
            })
        },
    ),
    case(
        "aud-nested-array",
        Identity,
        "`aud` as an array holding an array",
        R,
        "RFC 7519 §4.1.3 (string or array of strings)",
        |c| {
            c.with_claims(|m, _| {
                let aud = m.get("aud").cloned().unwrap_or(Value::Null);
                m.insert("aud".into(), json!([[aud]]));
            })
        },
    ),
    case(
        "aud-empty-string",
        Identity,
        "`aud` as the empty string",
        R,
        "RFC 7519 §4.1.3",
        |c| {
            c.with_claims(|m, _| {
                m.insert("aud".into(), "".into());
            })
        },
    ),
    case(
        "aud-eleven",
        Identity,
        "11 custom audiences (Bitbucket allows 10)",
        policy(
            "accepted: the signature and audience are genuine, though Bitbucket itself never issues this",
            Outcome::Accept,
        ),
        "Bitbucket: at most 10 custom audiences",
        |c| {
            c.with_claims(|m, _| {
                // The workspace's audience plus 11 custom ones, whatever the request added.
                let mut all = vec![aud_list(m).into_iter().next().unwrap_or(Value::Null)];
                all.extend((1..=11).map(|i| Value::String(format!("aud-{i}"))));
                m.insert("aud".into(), Value::Array(all));
            })
        },
    ),
    case(
        "aud-151-chars",
        Identity,
        "a custom audience of 151 characters (Bitbucket allows 150)",
        policy(
            "accepted: the signature and audience are genuine, though Bitbucket itself never issues this",
            Outcome::Accept,
        ),
        "Bitbucket: audiences of at most 150 characters",
        |c| {
            c.with_claims(|m, _| {
                let mut all = aud_list(m);
                all.push(Value::String("a".repeat(151)));
                m.insert("aud".into(), Value::Array(all));
            })
        },
    ),
    case(
        "sub-number",
        Identity,
        "`sub` as a number",
        R,
        "RFC 7519 §4.1.2 (StringOrURI)",
        |c| {
            c.with_claims(|m, _| {
                m.insert("sub".into(), 12345.into());
            })
        },
    ),
    case(
        "sub-other-repository",
        Identity,
        "`sub` and `repositoryUuid` of another repository",
        policy(SUB_RULE, Outcome::Accept),
        "Bitbucket: sub = {repositoryUuid}:{stepUuid}",
        |c| {
            c.with_claims(|m, _| {
                let other = "{00000000-0000-4000-8000-00000000beef}";
                let sub = m.get("sub").and_then(Value::as_str).unwrap_or_default();
                let rest = sub
                    .split_once(':')
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_default();
                m.insert("sub".into(), format!("{other}:{rest}").into());
                m.insert("repositoryUuid".into(), other.into());
            })
        },
    ),
    case(
        "sub-no-braces",
        Identity,
        "`sub` with the UUIDs written without braces",
        policy(SUB_RULE, Outcome::Accept),
        "Bitbucket writes UUIDs in braces",
        |c| {
            c.with_claims(|m, _| {
                let sub = m
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .replace(['{', '}'], "");
                m.insert("sub".into(), sub.into());
            })
        },
    ),
    case(
        "sub-fullwidth",
        Identity,
        "`sub` with fullwidth look-alike braces and colons",
        policy(SUB_RULE, Outcome::Accept),
        "Unicode TR #36 (confusables)",
        |c| {
            c.with_claims(|m, _| {
                let sub: String = m
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .chars()
                    .map(|ch| match ch {
                        '{' => '\u{FF5B}',
                        '}' => '\u{FF5D}',
                        ':' => '\u{FF1A}',
                        other => other,
                    })
                    .collect();
                m.insert("sub".into(), sub.into());
            })
        },
    ),
    case(
        "sub-nfd",
        Identity,
        "`sub` with a combining accent (NFD) after its first letter",
        policy(SUB_RULE, Outcome::Accept),
        "Unicode UAX #15 (normalization)",
        |c| {
            c.with_claims(|m, _| {
                let mut sub = String::new();
                let mut done = false;
                for ch in m
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .chars()
                {
                    sub.push(ch);
                    if !done && ch.is_ascii_alphabetic() {
                        sub.push('\u{0301}');
                        done = true;
                    }
                }
                m.insert("sub".into(), sub.into());
            })
        },
    ),
    // Algorithm.
    case(
        "alg-none",
        Algorithm,
        "`alg: none`, no signature",
        R,
        "CVE-2015-9235; RFC 7518 §3.6",
        |c| crypto::alg_none(c, "none"),
    ),
    case(
        "alg-none-capitalized",
        Algorithm,
        "`alg: None`, no signature",
        R,
        "CVE-2015-9235",
        |c| crypto::alg_none(c, "None"),
    ),
    case(
        "alg-none-upper",
        Algorithm,
        "`alg: NONE`, no signature",
        R,
        "CVE-2015-9235",
        |c| crypto::alg_none(c, "NONE"),
    ),
    case(
        "alg-none-mixed",
        Algorithm,
        "`alg: nOnE`, no signature",
        R,
        "CVE-2015-9235",
        |c| crypto::alg_none(c, "nOnE"),
    ),
    case(
        "hs256-public-key-pem",
        Algorithm,
        "HS256 keyed with the issuer's public key as PEM text",
        R,
        "CVE-2016-10555 (key confusion)",
        crypto::hs256_pem,
    ),
    case(
        "hs256-public-key-der",
        Algorithm,
        "HS256 keyed with the issuer's public key as DER",
        R,
        "CVE-2016-10555",
        crypto::hs256_der,
    ),
    case(
        "hs256-public-key-jwk",
        Algorithm,
        "HS256 keyed with the issuer's published JWK JSON",
        R,
        "CVE-2016-10555",
        crypto::hs256_jwk,
    ),
    case(
        "hs256-public-key-modulus",
        Algorithm,
        "HS256 keyed with the issuer's raw RSA modulus",
        R,
        "CVE-2016-10555",
        crypto::hs256_modulus,
    ),
    case(
        "ps256-with-rs256-key",
        Algorithm,
        "`alg: PS256`, a valid PSS signature by the RS256 key",
        R,
        "RFC 7518 §3.1 (alg must be allowed and match the key's alg)",
        crypto::ps256,
    ),
    case(
        "es256-psychic-signature",
        Algorithm,
        "`alg: ES256` with r = s = 0 under a published EC key",
        R,
        "CVE-2022-21449",
        crypto::psychic,
    ),
    // Signature and structure.
    case(
        "signature-stripped",
        Signature,
        "a genuine header and payload with an empty signature",
        R,
        "RFC 7515 §5.2",
        |c| signed(&c.header, &c.claims, &Sig::Empty),
    ),
    case(
        "two-parts",
        Signature,
        "header and payload only (`h.p`)",
        R,
        "RFC 7515 §7.1",
        crypto::two_parts,
    ),
    case(
        "wrong-key-trusted-kid",
        Signature,
        "signed by another key under the trusted `kid`",
        R,
        "RFC 7515 §5.2",
        crypto::wrong_key_trusted_kid,
    )
    .needing(Needs::Attacker),
    case(
        "unknown-kid",
        Signature,
        "signed by another key under its own unpublished `kid`",
        R,
        "RFC 7515 §4.1.4",
        crypto::unknown_kid,
    )
    .needing(Needs::Attacker),
    case(
        "missing-kid",
        Signature,
        "a genuine signature with no `kid` in the header",
        policy(
            "refused when `kid` is required (Bitbucket always sends one); accepted by relying parties that try every published key",
            Outcome::Refuse,
        ),
        "RFC 7515 §4.1.4",
        |c| {
            let mut h = c.header.clone();
            h.shift_remove("kid");
            signed(&h, &c.claims, &c.genuine())
        },
    ),
    case(
        "kid-not-yet-published",
        Signature,
        "signed by the workspace's next key, not yet in the JWKS",
        R,
        "key rotation (staged key)",
        crypto::not_yet_published,
    )
    .needing(Needs::StagedKey),
    case(
        "padded-base64url",
        Signature,
        "base64url parts with `=` padding, signed over the padded text",
        R,
        "RFC 7515 §2 (base64url without padding)",
        crypto::padded,
    ),
    case(
        "non-canonical-base64url",
        Signature,
        "a signature whose last character has non-zero unused bits",
        R,
        "RFC 4648 §3.5 (canonical encoding)",
        crypto::non_canonical,
    ),
    case(
        "json-serialized-jws",
        Signature,
        "the genuine token in JWS JSON serialization",
        R,
        "RFC 7515 §7.2 (OIDC uses compact)",
        crypto::json_serialized,
    ),
    case(
        "jwe-shaped",
        Signature,
        "a five-part JWE-shaped token",
        R,
        "RFC 7516 §7.1",
        crypto::jwe_shaped,
    ),
    // Header injection.
    case(
        "embedded-jwk",
        HeaderInjection,
        "signed by an attacker key embedded as `jwk`, under the trusted `kid`",
        R,
        "CVE-2018-0114",
        crypto::embedded_jwk,
    )
    .needing(Needs::Attacker),
    case(
        "jku-attacker",
        HeaderInjection,
        "`jku` pointing at an attacker JWKS (hosted here), attacker-signed",
        R,
        "RFC 7515 §4.1.2; RFC 8725 §3.10",
        crypto::jku,
    )
    .needing(Needs::Attacker),
    case(
        "x5u-attacker",
        HeaderInjection,
        "`x5u` pointing at an attacker certificate (hosted here), attacker-signed",
        R,
        "RFC 7515 §4.1.5; RFC 8725 §3.10",
        crypto::x5u,
    )
    .needing(Needs::Attacker),
    case(
        "kid-path-traversal",
        HeaderInjection,
        "`kid: ../../../../../../dev/null` with HS256 over an empty key",
        R,
        "CWE-22; jwt_tool kid injection",
        crypto::kid_traversal,
    ),
    case(
        "kid-sql-injection",
        HeaderInjection,
        "`kid` with an SQL injection, HS256 over the injected value",
        R,
        "CWE-89; jwt_tool kid injection",
        crypto::kid_sql,
    ),
    case(
        "crit-unknown",
        HeaderInjection,
        "a genuine signature with an unknown name in `crit`",
        R,
        "RFC 7515 §4.1.11",
        crypto::crit_unknown,
    ),
    case(
        "b64-false",
        HeaderInjection,
        "`b64: false` (unencoded payload) with a genuine signature",
        R,
        "RFC 7797 (not for ID tokens)",
        crypto::b64_false,
    ),
    case(
        "zip-def",
        HeaderInjection,
        "`zip: DEF` with a deflated payload and a genuine signature",
        R,
        "RFC 7516 §4.1.3 (zip is JWE-only); RFC 8725 §3.6",
        crypto::zip_def,
    ),
    // Parser.
    case(
        "duplicate-aud-good-last",
        Parser,
        "two `aud` members, the expected one last",
        R,
        "RFC 7515 §5.2; RFC 8259 §4",
        crypto::duplicate_aud_good_last,
    ),
    case(
        "duplicate-aud-bad-last",
        Parser,
        "two `aud` members, a foreign one last",
        R,
        "RFC 7515 §5.2; RFC 8259 §4",
        crypto::duplicate_aud_bad_last,
    ),
    case(
        "duplicate-alg",
        Parser,
        "two `alg` members in the header, `none` last",
        R,
        "RFC 7515 §5.2",
        crypto::duplicate_alg,
    ),
    case(
        "deep-nesting",
        Parser,
        "a claim nested 5,000 arrays deep",
        R,
        "CWE-674 (uncontrolled recursion)",
        crypto::deep_nesting,
    ),
    case(
        "huge-token",
        Parser,
        "a token over 1 MiB",
        R,
        "CWE-400 (resource exhaustion)",
        crypto::huge,
    ),
    case(
        "raw-nul-in-string",
        Parser,
        "a raw NUL byte inside a JSON string",
        R,
        "RFC 8259 §7 (control characters must be escaped)",
        crypto::raw_nul,
    ),
];

/// Looks a case up by name.
pub fn find(name: &str) -> Option<&'static Case> {
    CATALOGUE.iter().find(|c| c.name == name)
}

/// `aud` as a list, whether it is one string or an array.
fn aud_list(claims: &Map<String, Value>) -> Vec<Value> {
    match claims.get("aud") {
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    }
}

fn other_workspace_issuer(issuer: &str, slug: &str) -> String {
    issuer.replace(
        &format!("/workspaces/{slug}/"),
        &format!("/workspaces/{slug}-other/"),
    )
}
