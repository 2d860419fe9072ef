//! AWS STS's query protocol, emulated: `AssumeRoleWithWebIdentity` judged by the role's trust
//! policy, and `GetCallerIdentity` for the credentials it issued. Form-encoded POST (or GET's
//! query) with `Action` and `Version=2011-06-15`; XML replies in STS's namespace and shapes;
//! AWS's error codes (`AccessDenied`, `InvalidIdentityToken`, `ExpiredTokenException`,
//! `InvalidClientTokenId`, `ValidationError`, `InvalidAction`).
//!
//! `GetCallerIdentity` reads the access key ID from the SigV4 `Authorization` header's
//! `Credential=AKID/...` and answers for that session; the signature itself is not checked (the
//! emulator's secrets protect nothing), which the README says.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

use super::roles::{Exchanges, Session, judge, random};
use crate::http::error::{OwnShape, reshape};
use crate::http::state::AppState;
use crate::policy::Context;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const MAX_DURATION: i64 = 43_200;
const MIN_DURATION: i64 = 900;

/// One STS request, GET or POST.
pub async fn sts(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    params.extend(form_urlencoded::parse(&body).into_owned());
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let action = match get("Action") {
        Some(a) => a,
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "MissingAction",
                "the request names no Action",
            );
        }
    };
    if let Some(v) = get("Version")
        && v != "2011-06-15"
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            &format!("Version {v:?} is not 2011-06-15"),
        );
    }
    match action {
        "AssumeRoleWithWebIdentity" => assume(&state, &get),
        "GetCallerIdentity" => caller(&state.exchanges, &headers, state.issuer.clock().now()),
        other => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!(
                "Could not find operation {other} for version 2011-06-15 (this emulator answers AssumeRoleWithWebIdentity and GetCallerIdentity)"
            ),
        ),
    }
}

fn assume<'a>(state: &AppState, get: &impl Fn(&str) -> Option<&'a str>) -> Response {
    let (Some(arn), Some(token), Some(session)) = (
        get("RoleArn"),
        get("WebIdentityToken"),
        get("RoleSessionName"),
    ) else {
        let missing: Vec<&str> = ["RoleArn", "RoleSessionName", "WebIdentityToken"]
            .into_iter()
            .filter(|k| get(k).is_none())
            .collect();
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!("{} member(s) must not be null", missing.join(", ")),
        );
    };
    if !(2..=64).contains(&session.len())
        || !session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}",
        );
    }
    let duration = match get("DurationSeconds").map(str::parse::<i64>) {
        None => 3600,
        Some(Ok(d)) if (MIN_DURATION..=MAX_DURATION).contains(&d) => d,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "DurationSeconds must be between 900 and 43200",
            );
        }
    };
    let Some(role) = state.exchanges.role(arn) else {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "Not authorized to perform sts:AssumeRoleWithWebIdentity (no role {arn} is emulated; add it with serve --aws-role ARN=POLICY.json)"
            ),
        );
    };
    let now = state.issuer.clock().now();
    let registration = Context {
        aws_account: Some(role.account.clone()),
        role_session_name: Some(session.to_string()),
        ..Context::default()
    };
    let judged = match judge(&state.issuer, &role.doc, token, &registration, now) {
        Ok(j) => j,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidIdentityToken",
                &format!("Couldn't parse the web identity token: {e}"),
            );
        }
    };
    let d = &judged.decision;
    if !d.allowed {
        let reason = d.reason.as_str();
        return if d.decided_by == "signature" {
            error(
                StatusCode::BAD_REQUEST,
                "InvalidIdentityToken",
                &format!(
                    "The web identity token's signature is not valid for the provider's keys: {reason}"
                ),
            )
        } else if let Some(r) = reason.strip_prefix("ExpiredTokenException: ") {
            error(
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                &format!("Token expired: {r}"),
            )
        } else if let Some(r) = reason.strip_prefix("InvalidIdentityToken: ") {
            error(StatusCode::BAD_REQUEST, "InvalidIdentityToken", r)
        } else {
            error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                &format!(
                    "Not authorized to perform sts:AssumeRoleWithWebIdentity on {arn}: decided by {}: {reason}",
                    d.decided_by
                ),
            )
        };
    }
    let role_id = format!("AROA{}", key_chars(&role.arn, 17));
    let akid = format!("ASIA{}", random_chars(16));
    let secret = base64::engine::general_purpose::STANDARD.encode(random(30));
    let token_blob = base64::engine::general_purpose::STANDARD.encode(random(96));
    let expires = now + duration;
    let s = Session::new(&role, &role_id, session, expires);
    let claim = |k: &str| match judged.claims.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let iss = claim("iss");
    let provider = format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        role.account,
        iss.strip_prefix("https://").unwrap_or(&iss)
    );
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"{NS}\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    <Audience>{}</Audience>\n    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{akid}</AccessKeyId>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <SessionToken>{token_blob}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n    <Provider>{}</Provider>\n  </AssumeRoleWithWebIdentityResult>\n{}\n</AssumeRoleWithWebIdentityResponse>\n",
        esc(&claim("sub")),
        esc(&claim("aud")),
        esc(&s.arn),
        esc(&s.user_id),
        iso(expires),
        esc(&provider),
        metadata(),
    );
    state.exchanges.remember(akid, s);
    xml(StatusCode::OK, body)
}

fn caller(exchanges: &Exchanges, headers: &HeaderMap, now: i64) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let akid = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("");
    if akid.is_empty() {
        return error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token (a SigV4 Authorization header with Credential=AKID/...)",
        );
    }
    let Some(s) = exchanges.session(akid) else {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid (this emulator never issued that access key ID)",
        );
    };
    if s.expires <= now {
        return error(
            StatusCode::FORBIDDEN,
            "ExpiredToken",
            "The security token included in the request is expired",
        );
    }
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{NS}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n{}\n</GetCallerIdentityResponse>\n",
        esc(&s.arn),
        esc(&s.user_id),
        esc(&s.account),
        metadata()
    );
    xml(StatusCode::OK, body)
}

/// An STS error document: a `Sender` fault for a 4xx, `Receiver` for a 5xx.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let fault = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>{fault}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        esc(code),
        esc(message),
        request_id()
    );
    xml(status, body)
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response();
    r.extensions_mut().insert(OwnShape);
    r
}

/// An error answer from outside this module (the guard's limits, the router's 404 and 405) as
/// STS's XML error document, keeping its message and its other headers (Allow...).
pub async fn shaped(response: Response) -> Response {
    reshape(response, |status, message| {
        let code = match status.as_u16() {
            404 => "InvalidAction",
            405 => "MethodNotAllowed",
            408 => "RequestTimeout",
            413 => "RequestEntityTooLarge",
            414 => "RequestURITooLong",
            431 => "RequestHeaderFieldsTooLarge",
            429 => "Throttling",
            s if s >= 500 => "InternalFailure",
            _ => "MalformedQueryString",
        };
        error(status, code, &message)
    })
    .await
}

fn metadata() -> String {
    format!(
        "  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>",
        request_id()
    )
}

fn request_id() -> String {
    let b = random(16);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn iso(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random_chars(n: usize) -> String {
    random(n)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A stable ID derived from `seed` (a role keeps its ID across calls, as in IAM).
fn key_chars(seed: &str, n: usize) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    digest
        .as_ref()
        .iter()
        .take(n)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Escapes text for XML content.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_ids() {
        assert_eq!(esc("<a&'\"b>\u{1}"), "&lt;a&amp;&apos;&quot;b&gt;");
        assert_eq!(key_chars("x", 17), key_chars("x", 17));
        assert_eq!(random_chars(16).len(), 16);
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    }
}
