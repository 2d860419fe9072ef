//! Arbitrary bodies to the control API's mint and verify calls through the real router: every
//! answer is a JSON body with a 2xx or 4xx status, never a panic or a 5xx.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use stepmint::http::{AppState, router};
use tower::ServiceExt;

#[path = "common.rs"]
mod common;

struct State {
    _fixture: common::Fixture,
    app: axum::Router,
    runtime: tokio::runtime::Runtime,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let fixture = common::fixture();
        let app = router(AppState::new(fixture.issuer.clone(), None));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        State { _fixture: fixture, app, runtime }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = state();
    for path in ["/_stepmint/v1/tokens", "/_stepmint/v1/verify", "/_stepmint/v1/workspaces/golden/tokens"] {
        let req = Request::post(path).body(Body::from(data.to_vec())).expect("request");
        let resp = s.runtime.block_on(s.app.clone().oneshot(req)).expect("infallible");
        let status = resp.status();
        assert!(status.is_success() || status.is_client_error(), "{path}: {status}");
        let body = s.runtime.block_on(axum::body::to_bytes(resp.into_body(), usize::MAX)).expect("body");
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok(), "{path}: not JSON");
    }
});
