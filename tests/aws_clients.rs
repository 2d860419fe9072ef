//! The real AWS CLI and boto3 (the venv in `STEPMINT_PYTHON`) against the emulated STS: the
//! CLI's `assume-role-with-web-identity`, its web-identity credential provider from
//! `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` signing `get-caller-identity`, and boto3's
//! error codes for a denied role, an expired token and keys the emulator never issued. Nothing
//! of the machine's AWS configuration is read: the environment is cleared, `HOME` is a temp dir.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use stepmint::http::api::AwsRoleRequest;
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{ControlClient, DataDir};

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

/// `program` with only what AWS clients need: no inherited AWS settings, a fresh HOME, `path`
/// first on PATH.
fn isolated(program: &Path, home: &Path, path: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    let mut dirs = vec![path.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    cmd.env_clear()
        .env("PATH", std::env::join_paths(dirs).expect("PATH"))
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    cmd
}

/// Runs `py ARGS` isolated, in us-east-1.
async fn py(py: &str, args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let bin = Path::new(py).parent().unwrap_or(Path::new("/"));
    let mut cmd = isolated(Path::new(py), home, bin);
    cmd.args(args).env("AWS_DEFAULT_REGION", "us-east-1");
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
        &[
            "-m",
            "awscli",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ],
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
    let expired = util::expired_token(&instance, &ws);
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

const PIPELINES: &str = "pipelines:
  branches:
    main:
      - step:
          name: Build
          script:
            - make
      - step:
          name: Deploy to production
          deployment: production
          oidc: true
          script:
            - aws sts get-caller-identity
";

/// `stepmint run --step 'Deploy to production' -- aws sts get-caller-identity` with nothing
/// but a running server emulating one role: run points the CLI at its STS, its CA bundle, the
/// role and a region, and the step's token is the one the trust policy judges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stepmint_run_gives_an_aws_cli_step_its_role() {
    let Some(python) = python() else { return };
    let aws = Path::new(&python).with_file_name("aws");
    let dir = util::data_dir();
    let home = util::data_dir();
    let checkout = util::data_dir();
    std::fs::write(checkout.path().join("bitbucket-pipelines.yml"), PIPELINES).expect("written");
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let provider = ws.issuer.trim_start_matches("https://").to_string();
    let only_production = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{provider}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {format!("{provider}:aud"): ws.workspace.default_audience()},
            "StringLike": {format!("{provider}:sub"): "{*}:{*}:*"}
        }
    }]});
    // The role comes through the control API, as a script beside a running server adds it.
    let control = ControlClient::find_running(&DataDir::open(dir.path()).expect("data dir"))
        .await
        .expect("reachable")
        .expect("running");
    let request = AwsRoleRequest {
        arn: ALLOW.into(),
        policy: only_production,
    };
    let list = control
        .call::<calls::PutAwsRole>(&[], &NoQuery {}, &request)
        .await
        .expect("role added");
    assert_eq!(list.aws_sts, instance.aws_sts_url());
    assert_eq!(
        list.roles
            .iter()
            .map(|r| r.arn.as_str())
            .collect::<Vec<_>>(),
        [ALLOW]
    );
    let d = dir.path().to_str().expect("utf-8");
    let run = |args: &[&str]| {
        let mut cmd = isolated(&util::bin(), home.path(), aws.parent().expect("bin dir"));
        cmd.current_dir(checkout.path())
            .args(["run", "--data-dir", d])
            .args(args)
            .args([
                "--",
                "aws",
                "sts",
                "get-caller-identity",
                "--output",
                "json",
            ]);
        cmd
    };

    let out = run(&["--step", "Deploy to production"])
        .output()
        .await
        .expect("runs");
    let v = json_out(&out);
    assert_eq!(v["Account"], "123456789012");
    assert!(
        v["Arn"].as_str().is_some_and(
            |a| a.starts_with("arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-")
        ),
        "{v}"
    );

    // Not a deployment step: its sub has no environment, and the role refuses it; the
    // command's failure is run's exit status.
    let out = run(&["--branch", "main"]).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("AccessDenied"),
        "{stderr}"
    );

    // A policy the engine cannot read is refused by name; removing the role leaves none, and
    // removing it again is a 404 naming it.
    let bad = AwsRoleRequest {
        arn: OTHER_REPO.into(),
        policy: json!({"Statement": [{"Effect": "Allow", "Condition": {"StringEqualz": {}}}]}),
    };
    let err = control
        .call::<calls::PutAwsRole>(&[], &NoQuery {}, &bad)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains(OTHER_REPO), "{err}");
    let list = control
        .call::<calls::DeleteAwsRole>(&[ALLOW], &NoQuery {}, &NoBody {})
        .await
        .expect("removed");
    assert!(list.roles.is_empty(), "{list:?}");
    let err = control
        .call::<calls::DeleteAwsRole>(&[ALLOW], &NoQuery {}, &NoBody {})
        .await
        .expect_err("already gone");
    assert!(err.to_string().contains("no emulated role"), "{err}");
    instance.stop().await;
}
