//! Arbitrary bytes as a JWKS: parsing never panics, and a genuine token verifies under the
//! parsed set only if the set really holds the key that signed it.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stepmint::StepRequest;
use stepmint::validate::{self, KeySet, Policy};

#[path = "common.rs"]
mod common;

struct State {
    _fixture: common::Fixture,
    token: String,
    modulus: String,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let fixture = common::fixture();
        let token = fixture.issuer.mint(&StepRequest::default()).expect("mint").token;
        let ws = fixture.issuer.workspace("golden").expect("workspace");
        let modulus = ws.workspace.keys.active().public_jwk().n.clone().expect("n");
        State { _fixture: fixture, token, modulus }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(keys) = KeySet::from_json(data) else { return };
    let s = state();
    for alg in ["RS256", "PS256", "ES256", "HS256", "EdDSA"] {
        let report = validate::verify(&s.token, &keys, &Policy::signature_only(&[alg]), common::NOW);
        if report.accepted {
            assert_eq!(alg, "RS256");
            assert!(String::from_utf8_lossy(data).contains(&s.modulus), "accepted under a set without the signing key");
        }
    }
});
