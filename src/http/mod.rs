//! The HTTP layer: one [`AppState`], one [`router`], errors as JSON.
//!
//! Relying-party paths (discovery, JWKS) mirror Bitbucket's; the control API lives under
//! `/_stepmint/v1/`. Every request passes through the request log.

mod access;
pub mod api;
mod body;
mod console;
mod control;
mod error;
mod faults;
mod guard;
mod live;
mod oidc;
mod reqlog;
mod screens;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};

pub use access::{Access, TOKEN_HEADER, split_host};
pub use body::{MAX_BODY, parse_json};
pub use console::built as console_built;
pub use error::ApiError;
pub use reqlog::{Endpoint, LOG_CAPACITY, PeerAddr, RequestLog, RequestRecord};
pub use state::{AppState, MAX_CONCURRENT_PROBES, ServerFacts, Serving, Shared};

use crate::paths::{DISCOVERY_ROUTE, JWKS_ROUTE};

/// The whole application.
pub fn router(state: AppState) -> Router {
    let control = Router::new()
        .route("/health", get(control::health))
        .route("/workspaces", get(control::workspaces))
        .route("/workspaces/{slug}", get(control::workspace))
        .route("/workspaces/{slug}/tokens", post(control::mint_for))
        .route(
            "/workspaces/{slug}/keys",
            get(control::keys).post(control::add_key),
        )
        .route("/workspaces/{slug}/keys/rotate", post(control::rotate))
        .route(
            "/workspaces/{slug}/keys/{kid}",
            axum::routing::delete(control::retire_key),
        )
        .route("/tokens", post(control::mint))
        .route("/requests", get(control::requests))
        .route("/requests/stream", get(live::requests))
        .route("/status", get(screens::status))
        .route("/inspect", post(screens::inspect))
        .route(
            "/history",
            get(screens::history).delete(screens::clear_history),
        )
        .route("/trust", get(screens::trust))
        .route("/recipes", post(screens::recipe))
        .route("/probe", post(live::probe_run))
        .route("/ca.pem", get(control::ca_pem))
        .route(
            "/faults",
            get(control::list_faults).delete(control::clear_all_faults),
        )
        .route(
            "/faults/{slug}",
            axum::routing::delete(control::clear_workspace_faults),
        )
        .route(
            "/faults/{slug}/{endpoint}",
            axum::routing::put(control::set_fault).delete(control::clear_fault),
        )
        .route("/cases", get(control::cases))
        .route("/verify", post(control::verify))
        .route("/attacker/{slug}/jwks.json", get(control::attacker_jwks))
        .route("/attacker/{slug}/cert.pem", get(control::attacker_cert));
    let mut app = Router::new()
        .route(DISCOVERY_ROUTE, get(oidc::discovery))
        .route(JWKS_ROUTE, get(oidc::jwks));
    app = if state.serving.control {
        app.nest(crate::paths::CONTROL_PREFIX, control)
    } else {
        // The attacker's documents are relying-party traffic (hostile `jku`/`x5u` cases point
        // at them); nothing else of the control plane is served.
        app.route(
            &format!(
                "{}/attacker/{{slug}}/jwks.json",
                crate::paths::CONTROL_PREFIX
            ),
            get(control::attacker_jwks),
        )
        .route(
            &format!(
                "{}/attacker/{{slug}}/cert.pem",
                crate::paths::CONTROL_PREFIX
            ),
            get(control::attacker_cert),
        )
    };
    if state.serving.console {
        let prefix = crate::paths::CONSOLE_PREFIX;
        app = app
            .route(prefix, get(console::to_index))
            .route(&format!("{prefix}/"), get(console::page))
            .route(&format!("{prefix}/{{*path}}"), get(console::page));
    }
    app.fallback(|uri: Uri| async move { ApiError::not_found(uri.path()) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this path",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard::Edge {
                log: state.log.clone(),
                access: state.access.clone(),
            }),
            guard::guard,
        ))
        .with_state(state)
}
