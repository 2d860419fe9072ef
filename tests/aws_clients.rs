//! The real AWS CLI and boto3 (the venv in `STEPMINT_PYTHON`) against the emulated STS: the
//! CLI's `assume-role-with-web-identity`, its web-identity credential provider from
//! `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` signing `get-caller-identity`, and boto3's
//! error codes for a denied role, an expired token and keys the emulator never issued. Nothing
//! of the machine's AWS configuration is read: the environment is cleared, `HOME` is a temp dir.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::aws_sts::{ALLOW, OTHER_REPO, server};
use crate::util;

/// The venv's Python when it has the AWS CLI and boto3; `None` (with the reason printed) if not.
fn python() -> Option<String> {
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", "import awscli, boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: {py} has no awscli/boto3 (scripts/test installs them in target/py; set STEPMINT_PYTHON)"
        );
    }
    ok.then_some(py)
}

/// Runs `py ARGS` with only what AWS clients need: no inherited AWS settings, a fresh HOME.
async fn py(py: &str, args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(py);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_PAGER", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("python runs")
}

fn json_out(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_and_boto3_assume_roles_offline() {
    let Some(python) = python() else { return };
    let dir = util::data_dir();
    let home = util::data_dir();
    let (instance, _client, url) = server(dir.path()).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let token = util::mint_for(&instance, &ws.workspace.default_audience()).token;
    let token_file = home.path().join("token.jwt");
    std::fs::write(&token_file, &token).expect("token written");
    let ca = instance.ca_path().display().to_string();
    let base = [
        ("AWS_CA_BUNDLE", ca.as_str()),
        ("AWS_ENDPOINT_URL_STS", url.as_str()),
    ];

    // The CLI's own call.
    let out = py(
        &python,
        &[
            "-m",
            "awscli",
            "sts",
            "assume-role-with-web-identity",
            "--role-arn",
            ALLOW,
            "--role-session-name",
            "cli-1",
            "--web-identity-token",
            &token,
            "--output",
            "json",
        ],
        home.path(),
        &base,
    )
    .await;
    let v = json_out(&out);
    assert_eq!(
        v["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/deploy/cli-1"
    );
    assert!(
        v["Credentials"]["AccessKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("ASIA")),
        "{v}"
    );

    // The CLI's credential chain: the web-identity provider, then a SigV4-signed call.
    let file = token_file.display().to_string();
    let mut env = base.to_vec();
    env.extend([
        ("AWS_ROLE_ARN", ALLOW),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", file.as_str()),
        ("AWS_ROLE_SESSION_NAME", "bitbucket-7"),
    ]);
    let out = py(
        &python,
        &["-m", "awscli", "sts", "get-caller-identity", "--output", "json"],
        home.path(),
        &env,
    )
    .await;
    let v = json_out(&out);
    assert_eq!(
        v,
        json!({
            "UserId": v["UserId"],
            "Account": "123456789012",
            "Arn": "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-7"
        })
    );
    assert!(
        v["UserId"]
            .as_str()
            .is_some_and(|u| u.starts_with("AROA") && u.ends_with(":bitbucket-7")),
        "{v}"
    );

    // A role whose trust policy refuses the step: the CLI fails with STS's code.
    env[2] = ("AWS_ROLE_ARN", OTHER_REPO);
    let out = py(
        &python,
        &["-m", "awscli", "sts", "get-caller-identity"],
        home.path(),
        &env,
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("AccessDenied"),
        "{stderr}"
    );

    // boto3: each error code as botocore reads it from the XML.
    let mut claims = serde_json::Map::new();
    claims.insert("exp".into(), json!(instance.issuer().clock().now() - 5));
    let expired = instance
        .issuer()
        .mint(&stepmint::StepRequest {
            audiences: vec![ws.workspace.default_audience()],
            claims,
            ..Default::default()
        })
        .expect("minted")
        .token;
    let script = r#"
import json, sys, boto3, botocore.exceptions
role, other, token, expired = sys.argv[1:5]
sts = boto3.client("sts")
def code(f):
    try:
        f()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
got = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="boto-1", WebIdentityToken=token)
c = got["Credentials"]
me = boto3.client("sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"]).get_caller_identity()
never = boto3.client("sts", aws_access_key_id="ASIANEVERISSUED0000", aws_secret_access_key="x")
print(json.dumps({
    "arn": me["Arn"],
    "expiration_is_a_date": hasattr(c["Expiration"], "year"),
    "denied": code(lambda: sts.assume_role_with_web_identity(RoleArn=other, RoleSessionName="boto-2", WebIdentityToken=token)),
    "expired": code(lambda: sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="boto-2", WebIdentityToken=expired)),
    "garbage": code(lambda: sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="boto-2", WebIdentityToken="not-a-jwt")),
    "never_issued": code(never.get_caller_identity),
}))
"#;
    let out = py(
        &python,
        &["-c", script, ALLOW, OTHER_REPO, &token, &expired],
        home.path(),
        &base,
    )
    .await;
    assert_eq!(
        json_out(&out),
        json!({
            "arn": "arn:aws:sts::123456789012:assumed-role/deploy/boto-1",
            "expiration_is_a_date": true,
            "denied": "AccessDenied",
            "expired": "ExpiredTokenException",
            "garbage": "InvalidIdentityToken",
            "never_issued": "InvalidClientTokenId",
        })
    );
    instance.stop().await;
}
