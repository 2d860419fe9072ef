//! A relying party in Rust: an HTTP endpoint that accepts a request only with a valid Bitbucket
//! step token, using Stepmint's reference validator with keys from the issuer's discovery.
//!
//! ```sh
//! cargo run --example rust_rp -- --issuer "$ISSUER" --audience my-api --ca "$(stepmint ca path)" --port 9000
//! stepmint probe --url http://127.0.0.1:9000/ --audience my-api
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use stepmint::validate::{self, Policy, RemoteKeys};
use stepmint::{Clock, SystemClock};

struct Rp {
    keys: RemoteKeys,
    policy: Policy,
}

async fn check(State(rp): State<Arc<Rp>>, headers: HeaderMap) -> (StatusCode, String) {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return (StatusCode::UNAUTHORIZED, "no bearer token\n".into());
    };
    let kid = stepmint::decode_unverified(token).ok().and_then(|d| {
        d.header
            .get("kid")
            .and_then(|k| k.as_str())
            .map(str::to_string)
    });
    let keys = match rp.keys.keys_for(kid.as_deref()).await {
        Ok(k) => k,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("keys: {e}\n")),
    };
    let report = validate::verify(token, &keys, &rp.policy, SystemClock.now());
    if report.accepted {
        (
            StatusCode::OK,
            format!("{}\n", report.claims.unwrap_or_default()),
        )
    } else {
        (
            StatusCode::UNAUTHORIZED,
            format!("{}\n", report.reason.unwrap_or_default()),
        )
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let issuer = arg(&args, "--issuer").ok_or("--issuer URL is required")?;
    let audience = arg(&args, "--audience").ok_or("--audience AUD is required")?;
    let ca = std::fs::read(arg(&args, "--ca").ok_or("--ca PEM is required")?)?;
    let port: u16 = arg(&args, "--port")
        .unwrap_or_else(|| "9000".into())
        .parse()?;
    let rp = Arc::new(Rp {
        keys: RemoteKeys::new(&issuer, &ca)?,
        policy: Policy::for_issuer(issuer, audience),
    });
    let app = Router::new().fallback(any(check)).with_state(rp);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    eprintln!("relying party on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
