//! Who could exploit each catalogue case: the [`ExploitableBy`] of a relying party's accepting
//! it, and why. Catalogue tokens are built by code rather than edits, so their reach is stated
//! here, beside the reasoning, instead of derived (`hostile::reach` derives it for every
//! generated token). A test keeps this table and the catalogue in step.

use super::cases::Case;
use super::kinds::ExploitableBy::{self, *};

type Row = (&'static str, ExploitableBy, &'static str);

const FORGED: &str = "forged: made without the issuer's key";
const NO_KEY_CHECK: &str = "signed by a key the issuer never published: a relying party that takes it checks no signature, so anyone's token passes";
const NOT_ISSUED: &str = "Bitbucket never issues this; the signature is genuine";

/// Every case's reach, in catalogue order.
static REACH: &[Row] = &[
    ("valid", TokenHolder, "the trusted step's own token"),
    (
        "expired",
        TokenHolder,
        "a token of the trusted step kept past its expiry (a leaked log, a cache)",
    ),
    (
        "expired-within-leeway",
        TokenHolder,
        "a token of the trusted step just past its expiry",
    ),
    ("nbf-future", Nobody, "Bitbucket sends no `nbf`"),
    (
        "iat-future",
        Nobody,
        "Bitbucket dates a token when it signs it",
    ),
    ("exp-string", Nobody, NOT_ISSUED),
    ("exp-float", Nobody, NOT_ISSUED),
    ("missing-exp", Nobody, "Bitbucket always sends `exp`"),
    ("missing-iat", Nobody, "Bitbucket always sends `iat`"),
    ("missing-iss", Nobody, "Bitbucket always sends `iss`"),
    ("missing-aud", Nobody, "Bitbucket always sends `aud`"),
    ("missing-sub", Nobody, "Bitbucket always sends `sub`"),
    ("iss-trailing-slash", Nobody, NOT_ISSUED),
    ("iss-http", Nobody, NOT_ISSUED),
    (
        "iss-other-workspace",
        AnyWorkspace,
        "a relying party that takes another workspace's `iss` takes any workspace's tokens: any Bitbucket user can create a workspace",
    ),
    (
        "iss-case-changed",
        Nobody,
        "workspace slugs are lower-case: Bitbucket never issues this",
    ),
    ("iss-nul-suffix", Nobody, NOT_ISSUED),
    (
        "aud-wrong",
        TokenHolder,
        "a relying party that takes another `aud` takes the trusted step's tokens meant for other services",
    ),
    (
        "aud-array-extra-foreign",
        TokenHolder,
        "the trusted step's token, also meant for another service",
    ),
    ("aud-nested-array", Nobody, NOT_ISSUED),
    ("aud-empty-string", Nobody, NOT_ISSUED),
    (
        "aud-eleven",
        Nobody,
        "Bitbucket allows at most 10 custom audiences",
    ),
    (
        "aud-151-chars",
        Nobody,
        "Bitbucket allows audiences of at most 150 characters",
    ),
    ("sub-number", Nobody, NOT_ISSUED),
    (
        "sub-other-repository",
        SameWorkspaceRepo,
        "a step in another repository of the same workspace",
    ),
    ("sub-no-braces", Nobody, "Bitbucket writes UUIDs in braces"),
    ("sub-fullwidth", Nobody, NOT_ISSUED),
    ("sub-nfd", Nobody, NOT_ISSUED),
    ("alg-none", Anyone, FORGED),
    ("alg-none-capitalized", Anyone, FORGED),
    ("alg-none-upper", Anyone, FORGED),
    ("alg-none-mixed", Anyone, FORGED),
    ("hs256-public-key-pem", Anyone, FORGED),
    ("hs256-public-key-der", Anyone, FORGED),
    ("hs256-public-key-jwk", Anyone, FORGED),
    ("hs256-public-key-modulus", Anyone, FORGED),
    (
        "ps256-with-rs256-key",
        Nobody,
        "a PSS signature needs the issuer's private key: only the issuer could make it, and Bitbucket signs with RS256",
    ),
    ("es256-psychic-signature", Anyone, FORGED),
    ("signature-stripped", Anyone, FORGED),
    ("two-parts", Anyone, FORGED),
    ("wrong-key-trusted-kid", Anyone, FORGED),
    ("unknown-kid", Anyone, FORGED),
    (
        "missing-kid",
        Nobody,
        "a genuine signature; trying every published key is acceptable while the JWKS holds one key",
    ),
    ("kid-not-yet-published", Anyone, NO_KEY_CHECK),
    ("padded-base64url", Nobody, NOT_ISSUED),
    ("non-canonical-base64url", Nobody, NOT_ISSUED),
    ("json-serialized-jws", Nobody, NOT_ISSUED),
    ("jwe-shaped", Anyone, FORGED),
    ("embedded-jwk", Anyone, FORGED),
    ("jku-attacker", Anyone, FORGED),
    ("x5u-attacker", Anyone, FORGED),
    ("kid-path-traversal", Anyone, FORGED),
    ("kid-sql-injection", Anyone, FORGED),
    ("crit-unknown", Nobody, NOT_ISSUED),
    (
        "b64-false",
        Nobody,
        "`b64: false` listed in `crit` is RFC 7797 behaviour, with a genuine signature: Bitbucket never issues it",
    ),
    ("zip-def", Nobody, NOT_ISSUED),
    (
        "duplicate-aud-good-last",
        Nobody,
        "a parser mismatch RFC 7519 §4 permits (last member wins), with a genuine signature",
    ),
    ("duplicate-aud-bad-last", Nobody, NOT_ISSUED),
    ("duplicate-alg", Nobody, NOT_ISSUED),
    ("deep-nesting", Nobody, NOT_ISSUED),
    ("huge-token", Nobody, NOT_ISSUED),
    ("raw-nul-in-string", Nobody, NOT_ISSUED),
];

impl Case {
    /// Who could exploit a relying party that accepts this case, and why.
    pub fn reach(&self) -> (ExploitableBy, &'static str) {
        REACH
            .iter()
            .find(|(n, _, _)| *n == self.name)
            .map_or((Nobody, NOT_ISSUED), |(_, by, why)| (*by, *why))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cases::CATALOGUE;
    use super::*;

    #[test]
    fn every_case_and_no_other_has_its_reach_in_catalogue_order() {
        let names: Vec<&str> = CATALOGUE.iter().map(|c| c.name).collect();
        let table: Vec<&str> = REACH.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, table);
    }

    #[test]
    fn the_relabelled_cases_are_hygiene() {
        for name in ["missing-kid", "duplicate-aud-good-last", "b64-false"] {
            let case = CATALOGUE.iter().find(|c| c.name == name);
            assert_eq!(case.map(|c| c.reach().0), Some(Nobody), "{name}");
        }
    }
}
