//! The HTTP layer: one [`AppState`], one [`router`], errors as JSON.
//!
//! Relying-party paths (discovery, JWKS) mirror Bitbucket's; the control API lives under
//! `/_stepmint/v1/`. Every request passes through the request log.

mod access;
pub mod api;
mod body;
mod browser;
pub mod calls;
mod client;
mod console;
mod control;
mod error;
pub mod exchange;
mod faults;
mod guard;
mod live;
mod oidc;
mod policies;
mod reqlog;
mod screens;
pub mod service;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::routing::get;

pub use access::{Access, TOKEN_HEADER, split_host};
pub use body::{MAX_BODY, parse_json};
pub use browser::{API_CSP, CONSOLE_CSP};
pub use client::ControlClient;
pub use console::built as console_built;
pub use error::ApiError;
pub use reqlog::{
    Endpoint, LOG_CAPACITY, MAX_FIELD, MAX_PAGE, PRINT_BURST, PRINT_RATE, PeerAddr, RequestLog,
    RequestRecord,
};
pub use state::{AppState, MAX_CONCURRENT_PROBES, ServerFacts, Serving, Shared};

use crate::paths::{DISCOVERY_ROUTE, JWKS_ROUTE};
use calls::Call;

/// Mounts `handler` for call `C` (its method and path from the call table).
fn at<C: Call, H, T>(router: Router<AppState>, handler: H) -> Router<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    // Every method in the table is a standard one; the table's test mounts each.
    let Ok(filter) = axum::routing::MethodFilter::try_from(C::METHOD) else {
        return router;
    };
    router.route(C::PATH, axum::routing::on(filter, handler))
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    use calls as c;
    let mut control = Router::new();
    control = at::<c::HealthCall, _, _>(control, control::health);
    control = at::<c::ListWorkspaces, _, _>(control, control::workspaces);
    control = at::<c::GetWorkspace, _, _>(control, control::workspace);
    control = at::<c::MintFor, _, _>(control, control::mint_for);
    control = at::<c::ListKeys, _, _>(control, control::keys);
    control = at::<c::AddKey, _, _>(control, control::add_key);
    control = at::<c::RotateKey, _, _>(control, control::rotate);
    control = at::<c::RetireKey, _, _>(control, control::retire_key);
    control = at::<c::Mint, _, _>(control, control::mint);
    control = at::<c::Requests, _, _>(control, control::requests);
    control = at::<c::RequestStream, _, _>(control, live::requests);
    control = at::<c::Status, _, _>(control, screens::status);
    control = at::<c::Inspect, _, _>(control, screens::inspect);
    control = at::<c::History, _, _>(control, screens::history);
    control = at::<c::ClearHistory, _, _>(control, screens::clear_history);
    control = at::<c::Trust, _, _>(control, screens::trust);
    control = at::<c::Recipe, _, _>(control, screens::recipe);
    control = at::<c::Probe, _, _>(control, live::probe_run);
    control = at::<c::CaPem, _, _>(control, control::ca_pem);
    control = at::<c::Faults, _, _>(control, control::list_faults);
    control = at::<c::ClearAllFaults, _, _>(control, control::clear_all_faults);
    control = at::<c::ClearWorkspaceFaults, _, _>(control, control::clear_workspace_faults);
    control = at::<c::SetFault, _, _>(control, control::set_fault);
    control = at::<c::ClearFault, _, _>(control, control::clear_fault);
    control = at::<c::AwsRoles, _, _>(control, control::aws_roles);
    control = at::<c::PutAwsRole, _, _>(control, control::put_aws_role);
    control = at::<c::DeleteAwsRole, _, _>(control, control::delete_aws_role);
    control = at::<c::GcpProviders, _, _>(control, control::gcp_providers);
    control = at::<c::PutGcpProvider, _, _>(control, control::put_gcp_provider);
    control = at::<c::DeleteGcpProvider, _, _>(control, control::delete_gcp_provider);
    control = at::<c::Cases, _, _>(control, control::cases);
    control = at::<c::Verify, _, _>(control, control::verify);
    control = at::<c::PolicyCheck, _, _>(control, policies::check);
    let control = control
        .route("/attacker/{slug}/jwks.json", get(control::attacker_jwks))
        .route("/attacker/{slug}/cert.pem", get(control::attacker_cert));
    let sts = axum::routing::get(exchange::aws::sts).post(exchange::aws::sts);
    let mut app = Router::new()
        .route(DISCOVERY_ROUTE, get(oidc::discovery))
        .route(JWKS_ROUTE, get(oidc::jwks))
        // STS clients are relying-party-like: no control token, so not under the control prefix.
        .route(crate::paths::AWS_STS_PATH, sts.clone())
        .route(crate::paths::AWS_STS_PATH.trim_end_matches('/'), sts)
        .route(
            &format!("{}v1/token", crate::paths::GCP_STS_PATH),
            axum::routing::post(exchange::gcp::token),
        );
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
            .route(
                prefix,
                get(|| async { axum::response::Redirect::permanent("/_stepmint/ui/") }),
            )
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
