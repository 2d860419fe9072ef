//! The emulated AWS STS endpoint over HTTPS: roles from the config, the control-token-free
//! path, AssumeRoleWithWebIdentity judged by the trust policy (allowed, denied, expired, forged),
//! GetCallerIdentity for issued and never-issued keys, and AWS-shaped errors for bad requests.

use std::sync::Arc;

use serde_json::{Value, json};
use stepmint::{IdSource, Instance, SystemClock};

use crate::util;

pub const ALLOW: &str = "arn:aws:iam::123456789012:role/deploy";
pub const OTHER_REPO: &str = "arn:aws:iam::123456789012:role/other-repo";
const STALE: &str = "arn:aws:iam::123456789012:role/stale";

fn policy(provider: &str, aud: &str, sub: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{provider}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{provider}:aud"): aud}, "StringLike": {format!("{provider}:sub"): sub}}
    }]})
}

/// A server emulating three roles: one from the config whose policy trusts another issuer,
/// one any step of the workspace's repository gets, one only another repository's steps get.
/// The last two are added once the server runs: the issuer's URL carries its port.
pub async fn server(dir: &std::path::Path) -> (Instance, reqwest::Client, String) {
    let mut config = util::config(dir, &[]);
    let file = dir.join("stale.json");
    let stale = policy("stepmint.invalid/oidc", "x", "*");
    std::fs::write(&file, stale.to_string()).expect("policy written");
    config.aws_roles.insert(STALE.into(), file);
    let instance = Instance::start(config, Arc::new(SystemClock), Arc::new(IdSource::random()))
        .await
        .expect("start");
    let ws = instance
        .issuer()
        .workspace_or_first(None)
        .expect("workspace");
    let provider = ws.issuer.trim_start_matches("https://").to_string();
    let aud = ws.workspace.default_audience();
    for (arn, sub) in [
        (ALLOW, "{*}:*"),
        (OTHER_REPO, "{00000000-0000-4000-8000-000000000000}:*"),
    ] {
        instance
            .exchanges()
            .put_role(arn, &policy(&provider, &aud, sub))
            .expect("role");
    }
    let client = util::client(&util::ca_pem(&instance));
    let url = instance.aws_sts_url();
    (instance, client, url)
}

async fn call(
    client: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
    auth: Option<&str>,
) -> (u16, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("sent");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find(&format!("</{tag}>")).expect("closed") + start;
    &xml[start..end]
}

fn assume<'a>(arn: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", arn),
        ("RoleSessionName", "deploy-1"),
        ("WebIdentityToken", token),
    ]
}

#[tokio::test]
async fn sts_assume_role_and_caller_identity() {
    let dir = util::data_dir();
    let (instance, client, url) = server(dir.path()).await;
    assert!(
        url.ends_with("/_stepmint/aws/sts/") && !url.contains("/_stepmint/v1"),
        "{url}"
    );
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let token = util::mint_for(&instance, &ws.workspace.default_audience()).token;

    let (status, xml) = call(&client, &url, &assume(ALLOW, &token), None).await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"), "{xml}");
    assert_eq!(
        between(&xml, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/deploy/deploy-1"
    );
    let akid = between(&xml, "AccessKeyId").to_string();
    assert!(akid.starts_with("ASIA") && akid.len() == 20, "{akid}");

    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={akid}/20261203/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    );
    let (status, xml) = call(
        &client,
        &url,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        Some(&auth),
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(between(&xml, "Account"), "123456789012");
    assert!(between(&xml, "UserId").ends_with(":deploy-1"), "{xml}");
    let never = "AWS4-HMAC-SHA256 Credential=ASIAAAAAAAAAAAAAAAAA/20261203/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00";
    let (status, xml) = call(
        &client,
        &url,
        &[("Action", "GetCallerIdentity")],
        Some(never),
    )
    .await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (403, "InvalidClientTokenId"),
        "{xml}"
    );

    // Another repository's role: the trust policy says no.
    let (status, xml) = call(&client, &url, &assume(OTHER_REPO, &token), None).await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (403, "AccessDenied"),
        "{xml}"
    );
    // The configured role trusts another provider: denied, and the message says what decided.
    let (status, xml) = call(&client, &url, &assume(STALE, &token), None).await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (403, "AccessDenied"),
        "{xml}"
    );
    assert!(
        between(&xml, "Message").contains("no Allow statement names the provider"),
        "{xml}"
    );
    // A role nobody configured.
    let (status, xml) = call(
        &client,
        &url,
        &assume("arn:aws:iam::123456789012:role/nope", &token),
        None,
    )
    .await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (403, "AccessDenied"),
        "{xml}"
    );

    // Expired: STS allows no leeway.
    let expired = util::expired_token(&instance, &ws);
    let (status, xml) = call(&client, &url, &assume(ALLOW, &expired), None).await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (400, "ExpiredTokenException"),
        "{xml}"
    );

    // A forged signature, and no JWT at all.
    let forged = format!("{}AAAA", &token[..token.rfind('.').expect("dot") + 1]);
    for bad in [forged.as_str(), "not-a-jwt"] {
        let (status, xml) = call(&client, &url, &assume(ALLOW, bad), None).await;
        assert_eq!(
            (status, between(&xml, "Code")),
            (400, "InvalidIdentityToken"),
            "{bad}: {xml}"
        );
    }

    // Malformed requests: AWS-shaped errors, 400.
    for (form, code) in [
        (vec![("Version", "2011-06-15")], "MissingAction"),
        (vec![("Action", "AssumeRole")], "InvalidAction"),
        (
            vec![("Action", "AssumeRoleWithWebIdentity"), ("RoleArn", ALLOW)],
            "ValidationError",
        ),
        (
            vec![
                ("Action", "AssumeRoleWithWebIdentity"),
                ("RoleArn", ALLOW),
                ("RoleSessionName", "x"),
                ("WebIdentityToken", "t"),
            ],
            "ValidationError",
        ),
        (
            vec![("Action", "GetCallerIdentity"), ("Version", "2010-01-01")],
            "InvalidParameterValue",
        ),
    ] {
        let (status, xml) = call(&client, &url, &form, None).await;
        assert_eq!(
            (status, between(&xml, "Code")),
            (400, code),
            "{form:?}: {xml}"
        );
        assert!(xml.starts_with("<ErrorResponse"), "{xml}");
    }
    // The server's own refusals and unknown paths under the endpoint are STS errors too.
    let big = "x".repeat(200 * 1024);
    let (status, xml) = call(&client, &url, &assume(ALLOW, &big), None).await;
    assert_eq!(
        (status, between(&xml, "Code")),
        (413, "RequestEntityTooLarge"),
        "{xml}"
    );
    let resp = client.put(&url).body("x").send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 405);
    assert!(resp.headers().contains_key("allow"));
    let xml = resp.text().await.expect("body");
    assert_eq!(between(&xml, "Code"), "MethodNotAllowed", "{xml}");
    let resp = client
        .get(format!("{url}nothing-here"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 404);
    assert!(
        resp.text()
            .await
            .expect("body")
            .starts_with("<ErrorResponse")
    );
    // GET with a query works too (the query protocol allows it).
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(assume(ALLOW, &token))
        .finish();
    let resp = client.get(format!("{url}?{q}")).send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 200);
    instance.stop().await;
}
