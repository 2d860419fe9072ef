//! Emulating a Pipelines step: the environment Bitbucket gives a step's script (the step
//! variables, consistent with the token's claims, and `BITBUCKET_STEP_OIDC_TOKEN`), plus what
//! makes the script trust the local CA and find the token the way the AWS SDKs expect.
//!
//! Identities a real workspace keeps stable (deployment environment UUIDs by name, the project,
//! the triggering user, the build counter) are persisted in the workspace's `step.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::clock::IdSource;
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::issuer::MintedToken;
use crate::store;
use crate::token::StepRequest;
use crate::workspace::braced;

/// What the step is.
#[derive(Debug, Clone, Default)]
pub struct StepOptions {
    /// Workspace slug (default: the first).
    pub workspace: Option<String>,
    /// Repository UUID (default: the workspace's default repository).
    pub repo_uuid: Option<String>,
    /// Repository slug (default: the git top-level directory's name, else the current one's).
    pub repo_slug: Option<String>,
    /// Deployment environment name (`deployment:` in the pipelines file).
    pub environment: Option<String>,
    /// Its UUID, as Repository settings > Deployments shows it [default: the one this workspace
    /// gave the name before, else a new one]; remembered for the name.
    pub environment_uuid: Option<String>,
    /// Branch (default: the current git branch, else `main`).
    pub branch: Option<String>,
    /// Custom audiences.
    pub audiences: Vec<String>,
    /// `AWS_ROLE_ARN` (the token always goes to `AWS_WEB_IDENTITY_TOKEN_FILE`).
    pub aws_role_arn: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`: a running server's emulated STS.
    pub aws_sts_url: Option<String>,
    /// The GCP workload identity provider (`projects/N/locations/global/workloadIdentityPools/P/providers/X`)
    /// an external-account credential names: when set, `GOOGLE_APPLICATION_CREDENTIALS` points
    /// at one whose subject token is the step's token file.
    pub gcp_provider: Option<String>,
    /// The credential's `token_url`: a running server's emulated GCP STS [default: the issuer's
    /// public URL's].
    pub gcp_sts_url: Option<String>,
    /// Where the step runs (git is asked about this directory).
    pub dir: PathBuf,
}

/// The prepared environment.
#[derive(Debug)]
pub struct StepEnv {
    /// Variables to set for the step's command.
    pub vars: Vec<(String, String)>,
    /// The step's token.
    pub token: MintedToken,
    /// The token file for the AWS SDKs, deleted when this is dropped.
    pub token_file: Option<tempfile::TempPath>,
    /// The external-account credential file for google-auth, deleted when this is dropped.
    pub gcp_credentials: Option<tempfile::TempPath>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StepState {
    project_uuid: String,
    triggerer_uuid: String,
    last_build: u64,
    environments: BTreeMap<String, String>,
}

/// Builds the step environment: mints the token and every variable that goes with it.
/// `ca` and `bundle` are the CA certificate and the system-roots-plus-CA bundle.
pub fn prepare(
    issuer: &Issuer,
    opts: &StepOptions,
    ids: &IdSource,
    ca: &Path,
    bundle: &Path,
) -> Result<StepEnv> {
    let served = issuer.workspace_or_first(opts.workspace.as_deref())?;
    let slug = served.workspace.slug.clone();
    let (state, env_uuid, build) = {
        let _lock = issuer.data_dir().lock()?;
        let path = issuer.data_dir().step_state(&slug);
        let mut state: StepState = store::read_json(&path)?.unwrap_or_default();
        if state.project_uuid.is_empty() {
            state.project_uuid = braced(&ids.uuid());
            state.triggerer_uuid = braced(&ids.uuid());
        }
        let env_uuid = opts.environment.as_ref().map(|name| {
            let entry = state.environments.entry(name.clone());
            match &opts.environment_uuid {
                Some(uuid) => {
                    let uuid = uuid.clone();
                    *entry.or_default() = uuid.clone();
                    uuid
                }
                None => entry.or_insert_with(|| braced(&ids.uuid())).clone(),
            }
        });
        state.last_build += 1;
        store::write_json(&path, &state)?;
        let build = state.last_build;
        (state, env_uuid, build)
    };

    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&opts.dir)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let toplevel = git(&["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let clone_dir = toplevel.clone().unwrap_or_else(|| opts.dir.clone());
    let repo_slug = opts.repo_slug.clone().unwrap_or_else(|| {
        clone_dir
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "repository".into())
    });
    let branch = opts
        .branch
        .clone()
        .or_else(|| {
            toplevel
                .as_ref()
                .and_then(|_| git(&["rev-parse", "--abbrev-ref", "HEAD"]))
                .filter(|b| b != "HEAD")
        })
        .unwrap_or_else(|| "main".into());
    let commit = toplevel.as_ref().and_then(|_| git(&["rev-parse", "HEAD"]));

    let step_uuid = braced(&ids.uuid());
    let pipeline_uuid = braced(&ids.uuid());
    let token = issuer.mint(&StepRequest {
        workspace: Some(slug.clone()),
        repository_uuid: opts.repo_uuid.clone(),
        step_uuid: Some(step_uuid.clone()),
        pipeline_uuid: Some(pipeline_uuid.clone()),
        deployment_environment_uuid: env_uuid.clone(),
        branch: Some(branch.clone()),
        audiences: opts.audiences.clone(),
        ..Default::default()
    })?;
    let repo_uuid = token.claims["repositoryUuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let mut vars: Vec<(String, String)> = vec![
        ("CI".into(), "true".into()),
        ("BITBUCKET_STEP_OIDC_TOKEN".into(), token.token.clone()),
        ("BITBUCKET_WORKSPACE".into(), slug.clone()),
        ("BITBUCKET_REPO_SLUG".into(), repo_slug.clone()),
        ("BITBUCKET_REPO_UUID".into(), repo_uuid),
        (
            "BITBUCKET_REPO_FULL_NAME".into(),
            format!("{slug}/{repo_slug}"),
        ),
        ("BITBUCKET_BRANCH".into(), branch),
        (
            "BITBUCKET_CLONE_DIR".into(),
            clone_dir.display().to_string(),
        ),
        ("BITBUCKET_BUILD_NUMBER".into(), build.to_string()),
        ("BITBUCKET_STEP_UUID".into(), step_uuid),
        ("BITBUCKET_PIPELINE_UUID".into(), pipeline_uuid),
        ("BITBUCKET_PROJECT_KEY".into(), "PROJ".into()),
        ("BITBUCKET_PROJECT_UUID".into(), state.project_uuid.clone()),
        (
            "BITBUCKET_STEP_TRIGGERER_UUID".into(),
            state.triggerer_uuid.clone(),
        ),
    ];
    if let Some(commit) = commit {
        vars.push(("BITBUCKET_COMMIT".into(), commit));
    }
    if let (Some(name), Some(uuid)) = (&opts.environment, env_uuid) {
        vars.push(("BITBUCKET_DEPLOYMENT_ENVIRONMENT".into(), name.clone()));
        vars.push(("BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID".into(), uuid));
    }
    for (k, v) in crate::trust::env_vars(ca, bundle) {
        vars.push((k.into(), v));
    }
    // What the AWS SDKs' web-identity provider reads: the token in a file, always (an AWS pipe
    // writes it the same way), the role when known, and STS when one is emulated.
    let file = tempfile::Builder::new()
        .prefix("stepmint-oidc-")
        .suffix(".jwt")
        .tempfile()
        .map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
    std::fs::write(file.path(), &token.token).map_err(|e| Error::io("write", file.path(), e))?;
    vars.push((
        "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
        file.path().display().to_string(),
    ));
    vars.push(("AWS_ROLE_SESSION_NAME".into(), format!("bitbucket-{build}")));
    if let Some(arn) = &opts.aws_role_arn {
        vars.push(("AWS_ROLE_ARN".into(), arn.clone()));
    }
    if let Some(url) = &opts.aws_sts_url {
        vars.push(("AWS_ENDPOINT_URL_STS".into(), url.clone()));
    }
    let gcp_credentials = match &opts.gcp_provider {
        Some(provider) => {
            let url = opts
                .gcp_sts_url
                .clone()
                .unwrap_or_else(|| crate::paths::gcp_sts_url(issuer.public_url()));
            let info = gcp_credential(provider, &url, file.path())?;
            let creds = tempfile::Builder::new()
                .prefix("stepmint-gcp-")
                .suffix(".json")
                .tempfile()
                .map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
            std::fs::write(creds.path(), info.to_string())
                .map_err(|e| Error::io("write", creds.path(), e))?;
            vars.push((
                "GOOGLE_APPLICATION_CREDENTIALS".into(),
                creds.path().display().to_string(),
            ));
            Some(creds.into_temp_path())
        }
        None => None,
    };
    let token_file = Some(file.into_temp_path());
    Ok(StepEnv {
        vars,
        token,
        token_file,
        gcp_credentials,
    })
}

/// The external-account credential google-auth reads from `GOOGLE_APPLICATION_CREDENTIALS` (as
/// `gcloud iam workload-identity-pools create-cred-config` writes it for a file source): the
/// provider `provider` (its resource name, with or without `//iam.googleapis.com/`) as the
/// audience, the step token in `token_file` as the subject token, exchanged at `token_url`.
pub fn gcp_credential(
    provider: &str,
    token_url: &str,
    token_file: &Path,
) -> Result<serde_json::Value> {
    let name = provider
        .strip_prefix("//iam.googleapis.com/")
        .unwrap_or(provider);
    crate::http::exchange::valid_provider_name(name)?;
    Ok(serde_json::json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/{name}"),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": token_url,
        "credential_source": {"file": token_file},
    }))
}
