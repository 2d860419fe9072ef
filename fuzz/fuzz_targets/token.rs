//! Arbitrary bytes as a token against a fixed policy and JWKS: never panics, and nothing is
//! accepted but the genuine tokens minted at start-up (no forgery).

#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stepmint::StepRequest;
use stepmint::validate::{self, KeySet, Policy};

#[path = "common.rs"]
mod common;

struct State {
    _fixture: common::Fixture,
    keys: KeySet,
    policy: Policy,
    genuine: HashSet<String>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let fixture = common::fixture();
        let ws = fixture.issuer.workspace("golden").expect("workspace");
        let mut genuine = HashSet::new();
        for audiences in [vec![], vec!["sts.amazonaws.com".to_string()]] {
            let minted = fixture.issuer.mint(&StepRequest { audiences, ..Default::default() }).expect("mint");
            genuine.insert(minted.token);
        }
        State { keys: ws.keyset().clone(), policy: ws.default_policy(), genuine, _fixture: fixture }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let s = state();
    let report = validate::verify(token, &s.keys, &s.policy, common::NOW);
    assert_eq!(report.accepted, report.first_failure().is_none() && report.check("signature").is_some_and(|c| c.status == validate::Status::Pass));
    if report.accepted {
        assert!(s.genuine.contains(token), "forged token accepted: {token:?}");
    }
    let _ = stepmint::decode_unverified(token);
});
