//! Argument definitions. Every command's `--help` ends with examples.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `-V`: the version, the commit it was built from and the day (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("STEPMINT_COMMIT_SHORT"),
    ", built ",
    env!("STEPMINT_BUILD_DATE"),
    ")"
);

/// `--version`: the same, with the platform and how the C library is linked.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("STEPMINT_COMMIT"),
    "\nbuilt: ",
    env!("STEPMINT_BUILD_DATE"),
    "\ntarget: ",
    env!("STEPMINT_TARGET"),
);

#[derive(Debug, Parser)]
#[command(
    name = "stepmint",
    version = VERSION,
    long_version = LONG_VERSION,
    // No wrapping: examples must stay one pasteable line each (descriptions are kept short).
    term_width = 0,
    about = "A mock of Bitbucket Pipelines' OpenID Connect provider, and a test harness for the services that trust it",
    after_help = "Examples:\n  stepmint serve                      # issuer on https://localhost:8443 until Ctrl-C\n  stepmint mint --audience my-api     # a step token, no server needed\n  stepmint decode \"$BITBUCKET_STEP_OIDC_TOKEN\"   # needs a token (in a step, or from mint)\n  eval \"$(stepmint ca env)\"           # make curl, Python and Node trust the CA"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Global: every command takes `--data-dir`, before or after its name.
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the issuer over HTTPS (discovery, JWKS, control API).
    Serve(ServeArgs),
    /// Sign a step token with the persisted keys (no server needed).
    Mint(MintArgs),
    /// Show a token's header and claims WITHOUT verifying it.
    Decode(DecodeArgs),
    /// The local CA relying parties must trust.
    Ca(CaArgs),
    /// List the hostile and edge-case token catalogue.
    Cases(CasesArgs),
    /// List, rotate, add or retire a workspace's signing keys.
    Keys(KeysArgs),
    /// Validate a token as a strict relying party would; exit 0 accepted, 1 refused.
    Verify(VerifyArgs),
    /// Run a command as a Pipelines step would, with BITBUCKET_STEP_OIDC_TOKEN and the step variables.
    Run(RunArgs),
    /// List the steps of a bitbucket-pipelines.yml and whether each gets a token.
    Steps(StepsArgs),
    /// Send hostile, policy-boundary and generated tokens to a live relying party; exit 1 if it accepts one.
    Probe(ProbeArgs),
    /// Judge a token or a pipelines file by an AWS, Vault/OpenBao, GCP or Azure trust policy.
    Policy(PolicyArgs),
    /// Make a running server's discovery or JWKS misbehave (latency, errors, odd bodies...).
    Fault(FaultArgs),
    /// List, add or remove workspaces (no other command creates one).
    Workspaces(WorkspacesArgs),
    /// Show a running server's request log (--follow: as it grows).
    Log(LogArgs),
    /// Check that the server on the data directory is up and answering; exit 0 ready, 1 not.
    Health(HealthArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(CompletionsArgs),
    /// Print the man page (roff) for stepmint and its commands.
    Man(ManArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint fault set --endpoint jwks --status 503 --retry-after 30\n  stepmint fault set --endpoint discovery --latency 200-800\n  stepmint fault set --endpoint jwks --fail-next 3\n  stepmint fault set --endpoint jwks --empty-jwks --cache-control no-store\n  stepmint fault list\n  stepmint fault clear --all\n\nNeeds: a running server on the data directory (stepmint serve).\nFaults apply to relying-party paths only, never to the control API, and show in the request log."
)]
pub struct FaultArgs {
    #[command(subcommand)]
    pub what: FaultCommand,
    /// Print the server's answer as JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// Workspace slug [default: the first served]
    #[arg(long, value_name = "SLUG", global = true)]
    pub workspace: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FaultCommand {
    /// Set (replace) the fault of one endpoint
    Set(FaultSetArgs),
    /// Clear faults (of one endpoint, of the workspace, or --all)
    Clear {
        /// discovery or jwks [default: both]
        #[arg(long)]
        endpoint: Option<String>,
        /// Every workspace's faults
        #[arg(long)]
        all: bool,
    },
    /// List the active faults
    List,
}

#[derive(Debug, Args)]
pub struct FaultSetArgs {
    /// discovery or jwks
    #[arg(long)]
    pub endpoint: String,
    /// Added latency in ms: N or MIN-MAX
    #[arg(long, value_name = "MS")]
    pub latency: Option<String>,
    /// Answer with this 4xx/5xx status
    #[arg(long)]
    pub status: Option<u16>,
    /// Retry-After seconds, with --status
    #[arg(long, value_name = "SECS")]
    pub retry_after: Option<u64>,
    /// Fail only the next N requests, then recover
    #[arg(long, value_name = "N")]
    pub fail_next: Option<u32>,
    /// Reset the connection mid-body
    #[arg(long, conflicts_with_all = ["hang", "truncate"])]
    pub reset: bool,
    /// Never answer
    #[arg(long, conflicts_with = "truncate")]
    pub hang: bool,
    /// Send half the body
    #[arg(long)]
    pub truncate: bool,
    /// Send a body that is not JSON
    #[arg(long)]
    pub non_json: bool,
    /// Send this Content-Type
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    /// Send this Cache-Control
    #[arg(long, value_name = "VALUE")]
    pub cache_control: Option<String>,
    /// never-changes or always-changes
    #[arg(long, value_name = "MODE")]
    pub etag: Option<String>,
    /// JWKS: serve no keys
    #[arg(long)]
    pub empty_jwks: bool,
    /// JWKS: two keys under the signing kid
    #[arg(long)]
    pub duplicate_kid: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  stepmint probe --url http://127.0.0.1:9000/ --audience api://deploy   # needs a relying party there
  stepmint probe --url http://127.0.0.1:9000/ --claim branchName=main --fuzz 2000 --seed 1   # needs a relying party there
  stepmint probe --url http://127.0.0.1:9000/ --no-catalogue --fuzz 500 --save-findings findings   # needs a relying party there
  stepmint probe --url http://127.0.0.1:9000/ --recipes examples/recipes --no-catalogue   # needs a relying party there, in the source tree
  stepmint probe --exec 'python3 examples/pyjwt/verify.py --issuer {issuer} --audience {audience} {token}'   # needs PyJWT, in the source tree
  stepmint probe --shell --exec 'python3 examples/pyjwt/verify.py --issuer \"$STEPMINT_ISSUER\" --audience \"$STEPMINT_AUDIENCE\" \"$BITBUCKET_STEP_OIDC_TOKEN\" 2>&1'   # needs PyJWT, in the source tree

Placeholders in --url, --header, --body and --exec: {token}, {token_json} (a JSON string),
{token_url} (percent-encoded), {issuer}, {audience} (the first declared), {ca} (the CA file).
A command also gets the token in BITBUCKET_STEP_OIDC_TOKEN and on stdin, STEPMINT_ISSUER,
STEPMINT_AUDIENCE, and the CA trust variables of `stepmint run`; exit 0 means accepted.
--exec splits the text into words itself (no shell: `;`, `|`, `>&2` and `$VAR` are plain
text); add --shell to run it with sh -c. There no value is pasted into the text: each
placeholder becomes a variable reference (STEPMINT_TOKEN, STEPMINT_TOKEN_JSON,
STEPMINT_TOKEN_URL, STEPMINT_ISSUER, STEPMINT_AUDIENCE, STEPMINT_CA) quoted to suit where it
stands, so a value reaches the command as it is and never runs. A command that calls
setsid(2) leaves the process group the timeout kills.

Every wrong acceptance says who could exploit it (exploitable_by): anyone, any_workspace,
same_workspace_repo, branch_pusher (with the branch to push), token_holder, or nobody
(hygiene: Bitbucket never issues such a token; reported, never failing the run).

Exit codes: 0 no hostile token accepted that someone could exploit; 1 one was (a case or a
fuzz finding); 2 usage error; 3 the relying party could not be tested (its baseline was
refused or unreachable).")]
// The relying party is a URL or a command (--exec, optionally --shell): a bare `probe` names both.
#[command(group(clap::ArgGroup::new("target").required(true).args(["url", "exec"])))]
pub struct ProbeArgs {
    /// The relying party's URL (http:// or https://; placeholders below)
    #[arg(long, value_name = "URL", conflicts_with = "exec")]
    pub url: Option<String>,
    /// HTTP method
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,
    /// Request header, `Name: value` (repeatable) [default: Authorization: Bearer {token}]
    #[arg(long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Request body template
    #[arg(long, value_name = "TEMPLATE")]
    pub body: Option<String>,
    /// Statuses that mean accepted
    #[arg(long, value_name = "RANGE", default_value = "200-299")]
    pub accept_status: String,
    /// Extra CA certificate to trust for the relying party's HTTPS
    #[arg(long, value_name = "PEM")]
    pub ca: Vec<PathBuf>,
    /// A command that validates the token: exit 0 means accepted
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,
    /// Run the --exec text with sh -c (pipes, redirections, $VARS)
    #[arg(long, requires = "exec")]
    pub shell: bool,
    /// An audience the relying party accepts (repeatable) [default: the workspace's]
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,
    /// The relying party's `sub` patterns (StringLike, repeatable)
    #[arg(long = "sub-like", value_name = "PATTERN")]
    pub sub_like: Vec<String>,
    /// The relying party's claim conditions, KEY=PATTERN (repeatable)
    #[arg(long = "claim", value_name = "KEY=PATTERN")]
    pub claims: Vec<String>,
    /// The relying party's leeway in seconds [default: 30]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub leeway: Option<u64>,
    /// The oldest `iat` the relying party accepts, in seconds
    #[arg(long, value_name = "SECS")]
    pub max_age: Option<u64>,
    /// Workspace the tokens come from [default: the first]
    #[arg(long, value_name = "SLUG")]
    pub workspace: Option<String>,
    /// Repository UUID in the tokens
    #[arg(long, value_name = "UUID")]
    pub repo_uuid: Option<String>,
    /// Deployment environment UUID in the tokens
    #[arg(long, value_name = "UUID")]
    pub env_uuid: Option<String>,
    /// Branch in the tokens
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Only these cases or families (comma-separated; e.g. alg-none,policy:aud)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub cases: Vec<String>,
    /// Not these cases or families (comma-separated)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Send no catalogue and no policy-boundary cases (only recipes and generated tokens)
    #[arg(long)]
    pub no_catalogue: bool,
    /// Send N generated tokens after the fixed cases, each judged by the reference validator
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub fuzz: Option<u64>,
    /// Generate tokens for at most SECS seconds (alone, or with --fuzz: whichever ends first)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub fuzz_time: Option<u64>,
    /// Seed for generated tokens [default: random, printed]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Run every recipe (*.toml) in DIR beside the cases
    #[arg(long, value_name = "DIR")]
    pub recipes: Option<PathBuf>,
    /// Write each finding (and each failed generated case) as a recipe into DIR
    #[arg(long, value_name = "DIR")]
    pub save_findings: Option<PathBuf>,
    /// Seconds to wait for each answer
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Tokens in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    /// Port of the in-process issuer (when no server runs on the data directory) [default: a
    /// free one]. It serves the relying-party paths only, never a control API
    #[arg(long)]
    pub port: Option<u16>,
    /// Base URL of the in-process issuer
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// Write a JUnit XML report (one testcase per case)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint run -- env | grep BITBUCKET_\n  stepmint run --env production --audience sts.amazonaws.com --aws-role-arn arn:aws:iam::123456789012:role/deploy -- ./deploy.sh   # needs ./deploy.sh\n  stepmint run --pipelines bitbucket-pipelines.yml --step 'Deploy to production' -- ./deploy.sh   # needs the pipelines file and ./deploy.sh\n  stepmint run --step 'Deploy to production' -- aws sts get-caller-identity   # needs ./bitbucket-pipelines.yml and the AWS CLI\n  stepmint run --pipelines bitbucket-pipelines.yml --step 'default[1].parallel[0]' -- ./lint.sh   # needs the pipelines file and ./lint.sh\n\nExit codes: the command's own, whatever it is; 127 when the command is not found and 126 when it\ncannot be run (as a shell says it); stepmint's own errors (before the command runs) exit 2\nfor usage, 1 otherwise."
)]
pub struct RunArgs {
    /// Workspace slug [default: the first configured workspace]
    #[arg(long, value_name = "SLUG")]
    pub workspace: Option<String>,
    /// Repository UUID [default: the workspace's default repository]
    #[arg(long, value_name = "UUID")]
    pub repo_uuid: Option<String>,
    /// Repository slug [default: the git top-level directory's name]
    #[arg(long, value_name = "SLUG")]
    pub repo_slug: Option<String>,
    /// Deployment environment name (gets a stable UUID), or NAME=UUID to give its UUID (as `policy check --env` takes it)
    #[arg(long = "env", value_name = "NAME[=UUID]")]
    pub environment: Option<String>,
    /// Branch [default: the current git branch, else main]
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Extra audience (repeatable)
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,
    /// AWS_ROLE_ARN [default: the running server's emulated role, when it has exactly one]
    #[arg(long, value_name = "ARN")]
    pub aws_role_arn: Option<String>,
    /// GCP workload identity provider (projects/N/locations/global/workloadIdentityPools/P/providers/X): GOOGLE_APPLICATION_CREDENTIALS names an external-account credential exchanging the step's token at the running server's emulated GCP STS [default: its provider, when it has exactly one]
    #[arg(long, value_name = "NAME")]
    pub gcp_provider: Option<String>,
    /// Take the step's settings from this bitbucket-pipelines.yml [default with --step: ./bitbucket-pipelines.yml]
    #[arg(long, value_name = "FILE", requires = "step")]
    pub pipelines: Option<PathBuf>,
    /// The step's name in --pipelines
    #[arg(long, value_name = "NAME")]
    pub step: Option<String>,
    /// Base URL for `iss` [default: the running server's, else https://localhost:8443]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The command and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint steps bitbucket-pipelines.yml   # needs the pipelines file\n  stepmint steps bitbucket-pipelines.yml --json   # needs the pipelines file"
)]
pub struct StepsArgs {
    /// The pipelines file
    #[arg(value_name = "FILE", default_value = "bitbucket-pipelines.yml")]
    pub file: PathBuf,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint mint | stepmint verify --workspace stepmint\n  stepmint mint --audience my-api | stepmint verify --workspace stepmint --audience my-api --sub-like '{*}:{*}' --claim branchName=main --json\n  stepmint verify \"$TOKEN\" --issuer https://localhost:8443/2.0/workspaces/acme/pipelines-config/identity/oidc --audience my-api   # needs $TOKEN and a server for acme on 8443\n  stepmint verify \"$TOKEN\" --jwks keys.json --issuer https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc --audience my-api   # needs $TOKEN and keys.json\n\nExit codes: 0 accepted, 1 refused (or an error), 2 usage."
)]
pub struct VerifyArgs {
    /// The token, or - (the default) to read it from stdin
    #[arg(value_name = "TOKEN|-", default_value = "-")]
    pub token: String,
    /// The expected issuer; without --jwks its keys come from discovery over HTTPS
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// CA certificate(s) to trust for discovery [default: the data directory's CA]
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Verify with the keys in this JWKS file instead of discovery
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// Use a local workspace's published keys, issuer and default audience
    #[arg(long, value_name = "SLUG", conflicts_with_all = ["issuer", "jwks"])]
    pub workspace: Option<String>,
    /// An accepted audience (repeatable; any one must be in `aud`)
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,
    /// `sub` must match one of these AWS StringLike patterns (repeatable)
    #[arg(long = "sub-like", value_name = "PATTERN")]
    pub sub_like: Vec<String>,
    /// A claim must match a StringLike pattern (repeatable): --claim branchName='release/*'
    #[arg(long = "claim", value_name = "KEY=PATTERN")]
    pub claims: Vec<String>,
    /// Clock-skew leeway in seconds [default: 30]
    #[arg(long, value_name = "SECS")]
    pub leeway: Option<u64>,
    /// Refuse tokens issued more than this many seconds ago
    #[arg(long, value_name = "SECS")]
    pub max_age: Option<u64>,
    /// Allowed algorithm (repeatable) [default: RS256]
    #[arg(long = "alg", value_name = "ALG")]
    pub algorithms: Vec<String>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint cases\n  stepmint cases --json | jq -r '.[].name'\n  stepmint cases --markdown > cases.md\n  stepmint mint --case alg-none"
)]
pub struct CasesArgs {
    /// List the policy-boundary generators instead of the catalogue
    #[arg(long)]
    pub generators: bool,
    /// Print the catalogue as JSON
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the catalogue as a Markdown table
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint keys list\n  stepmint keys rotate --overlap 3600\n  stepmint keys add --alg ES256\n  stepmint keys add --alg RS256 --staged --publish-in 30\n  stepmint keys retire KID   # needs a kid that `keys list` shows\n\nWith a server running on the same data directory, changes go through its control API so\nit serves them at once; otherwise the files are changed directly."
)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub what: KeysCommand,
    /// Workspace slug [default: the first configured workspace]
    #[arg(long, value_name = "SLUG", global = true)]
    pub workspace: Option<String>,
    /// Print JSON
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// List keys with their state
    List,
    /// Publish the next key and sign with it; the old key leaves the JWKS after the overlap
    Rotate {
        /// Seconds the old key stays published [default: the token lifetime, 3600]
        #[arg(long, value_name = "SECS")]
        overlap: Option<u64>,
        /// Sign with the new key for this many seconds before publishing it
        #[arg(long, value_name = "SECS")]
        unpublished_for: Option<u64>,
    },
    /// Add a key that does not sign step tokens (ES256/EdDSA for the catalogue, or a staged RS256)
    Add {
        /// RS256, ES256 or EdDSA
        #[arg(long)]
        alg: String,
        /// Keep it out of the JWKS (until --publish-in, if given)
        #[arg(long)]
        staged: bool,
        /// Publish a staged key this many seconds from now
        #[arg(long, value_name = "SECS")]
        publish_in: Option<u64>,
    },
    /// Drop a key from the JWKS now
    Retire {
        /// The key's kid
        kid: String,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct DataDirArg {
    /// Data directory (CA, TLS leaf, keys, workspaces) [default: the platform data directory]
    #[arg(long, env = "STEPMINT_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TimeArgs {
    /// Fix the clock: Unix seconds or RFC 3339 (deterministic tokens)
    #[arg(long, value_name = "UNIX|RFC3339")]
    pub now: Option<String>,
    /// Seed generated UUIDs (deterministic tokens)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint serve\n  stepmint serve --port 0 --json\n  stepmint serve --workspace acme --workspace beta={0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}\n  stepmint serve --san api.bitbucket.org --public-url https://api.bitbucket.org --port 443   # needs leave to bind port 443\n  stepmint serve --config stepmint.toml   # needs stepmint.toml\n\nEach runs until Ctrl-C or SIGTERM."
)]
pub struct ServeArgs {
    /// Address to listen on (loopback unless you say otherwise)
    #[arg(long, value_name = "ADDR", env = "STEPMINT_BIND")]
    pub bind: Option<IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 8443]
    #[arg(long, env = "STEPMINT_PORT")]
    pub port: Option<u16>,
    /// Base URL relying parties use; its host goes into the TLS certificate [default: https://localhost:PORT]
    #[arg(long, value_name = "URL", env = "STEPMINT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve workspace SLUG, optionally with a fixed UUID (repeatable)
    #[arg(long = "workspace", value_name = "SLUG[=UUID]")]
    pub workspaces: Vec<String>,
    /// Extra DNS name or IP for the TLS certificate (repeatable; the variable takes a comma-separated list)
    #[arg(
        long = "san",
        value_name = "NAME",
        env = "STEPMINT_SAN",
        value_delimiter = ','
    )]
    pub sans: Vec<String>,
    /// TOML configuration file (flags override it)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Default token lifetime in seconds [default: 3600]
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u64>,
    /// Open connections above which the one idle the longest is closed for a new client [default: 4096]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
    /// Open connections one client address may hold (its idlest makes way for its next)
    /// [default: a quarter of --max-connections]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections_per_peer: Option<u64>,
    /// A file holding the token the control API and console require [default:
    /// $STEPMINT_CONTROL_TOKEN, else a new random one each start]. Either way it is written to the
    /// data directory (0600) for the CLI, and the console link carries it
    #[arg(long, value_name = "FILE")]
    pub control_token_file: Option<PathBuf>,
    /// Refused: a token on the command line is visible to every local user (`ps`)
    #[arg(long, value_name = "TOKEN", hide = true)]
    pub control_token: Option<String>,
    /// Let a probe over the control API run commands (`exec`), still only for the token's holder
    #[arg(long)]
    pub allow_exec: bool,
    /// Do not serve the web console at /_stepmint/ui/
    #[arg(long)]
    pub no_console: bool,
    /// Print one JSON object on stdout once listening, instead of the human summary
    #[arg(long)]
    pub json: bool,
    /// Emulate the AWS role ARN with the trust policy in FILE at the STS endpoint (repeatable)
    #[arg(long = "aws-role", value_name = "ARN=FILE")]
    pub aws_roles: Vec<String>,
    /// Emulate the GCP workload identity provider NAME (projects/N/locations/global/workloadIdentityPools/P/providers/X) from FILE at the GCP STS endpoint (repeatable)
    #[arg(long = "gcp-provider", value_name = "NAME=FILE")]
    pub gcp_providers: Vec<String>,
    /// Also serve on listeners with TLS faults (expired, wrong SAN, untrusted CA, TLS 1.2 only)
    #[arg(long)]
    pub tls_faults: bool,
    /// Run a scripted sequence of faults and key changes (TOML)
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint mint\n  stepmint workspaces add acme\n  stepmint mint --workspace acme --branch release --audience sts.amazonaws.com\n  stepmint mint --env-uuid {0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60} --claim 'team=\"qa\"' --unset branchName\n  stepmint mint --header 'typ=\"at+jwt\"' --json\n  stepmint mint --now 2030-01-01T00:00:00Z --seed 7   # byte-identical every time\n  stepmint mint --case alg-none\n  stepmint mint --header-json '{\"alg\":\"RS256\",\"alg\":\"none\"}' --sign-with attacker-rs256"
)]
pub struct MintArgs {
    /// Workspace slug [default: the first configured workspace]
    #[arg(long, value_name = "SLUG")]
    pub workspace: Option<String>,
    /// Repository UUID [default: the workspace's default repository]
    #[arg(long, value_name = "UUID")]
    pub repo_uuid: Option<String>,
    /// Step UUID [default: random]
    #[arg(long, value_name = "UUID")]
    pub step_uuid: Option<String>,
    /// Pipeline UUID [default: random]
    #[arg(long, value_name = "UUID")]
    pub pipeline_uuid: Option<String>,
    /// Deployment environment UUID (makes it a deployment step)
    #[arg(long, value_name = "UUID")]
    pub env_uuid: Option<String>,
    /// Branch name [default: main]
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Extra audience appended to the workspace's (repeatable, at most 10)
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,
    /// Lifetime in seconds [default: 3600]
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u64>,
    /// Set a claim to a JSON value (repeatable): --claim 'env="prod"' --claim n=3
    #[arg(long = "claim", value_name = "KEY=JSON")]
    pub claims: Vec<String>,
    /// Remove a claim (repeatable)
    #[arg(long = "unset", value_name = "KEY")]
    pub unset: Vec<String>,
    /// Set a header member to a JSON value (repeatable)
    #[arg(long = "header", value_name = "KEY=JSON")]
    pub headers: Vec<String>,
    /// Base URL for `iss` [default: the running server's, else https://localhost:8443]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Make a catalogue case instead of a genuine token (see `stepmint cases`)
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
    /// Use this raw JSON text as the header, byte for byte (duplicate keys, invalid JSON...)
    #[arg(long, value_name = "TEXT")]
    pub header_json: Option<String>,
    /// Use this raw JSON text as the payload, byte for byte
    #[arg(long, value_name = "TEXT")]
    pub payload_json: Option<String>,
    /// Signer: workspace, kid:KID, ps256, attacker-rs256, attacker-es256, attacker-eddsa,
    /// hs256:SECRET, hs256-public-pem, hs256-public-der, none
    #[arg(long, value_name = "SIGNER")]
    pub sign_with: Option<stepmint::Signer>,
    /// Send no signature (header.payload.)
    #[arg(long)]
    pub drop_signature: bool,
    /// Replay a recipe (TOML: edits to a genuine token; see examples/recipes/)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["case", "edits", "header_json", "payload_json", "sign_with", "drop_signature"])]
    pub recipe: Option<PathBuf>,
    /// Edits to the genuine token as JSON (what a probe finding prints to reproduce it)
    #[arg(long, value_name = "JSON", conflicts_with_all = ["case", "header_json", "payload_json", "sign_with", "drop_signature"])]
    pub edits: Option<String>,
    /// Print {token, header, claims} as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint decode eyJhbGciOi...   # needs a whole token\n  stepmint mint | stepmint decode -\n  stepmint decode --json \"$BITBUCKET_STEP_OIDC_TOKEN\"   # needs the token of a step (stepmint run)"
)]
pub struct DecodeArgs {
    /// The token, or - (the default) to read it from stdin
    #[arg(value_name = "TOKEN|-", default_value = "-")]
    pub token: String,
    /// Show the header and payload as the raw JSON text they are (duplicate members and all)
    #[arg(long)]
    pub raw: bool,
    /// Print {header, claims, ...} as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint ca path\n  stepmint ca pem > stepmint-ca.pem\n  eval \"$(stepmint ca env)\"\n  stepmint ca install-browser   # needs certutil (libnss3-tools)\n  stepmint ca install-browser --remove   # needs certutil (libnss3-tools)"
)]
pub struct CaArgs {
    #[command(subcommand)]
    pub what: CaCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CaCommand {
    /// Print the CA certificate's path (creating the CA if needed)
    Path,
    /// Print the CA certificate (PEM)
    Pem,
    /// Print shell `export` lines that make Node, Python, curl, OpenSSL and AWS trust the CA
    Env,
    /// Make Chromium and Firefox on Linux trust the CA (their NSS databases, with certutil)
    #[command(
        after_help = "Chromium reads ~/.pki/nssdb (created here if it has never run), Firefox each profile's cert9.db. Restart the browser afterwards. Needs certutil (Debian: apt-get install libnss3-tools). macOS and Windows: see the README's \"Trusting the CA\"."
    )]
    InstallBrowser {
        /// The home directory whose browsers to change [default: $HOME]
        #[arg(long, value_name = "DIR")]
        home: Option<PathBuf>,
        /// Remove this data directory's CA from those databases instead
        #[arg(long)]
        remove: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint workspaces list\n  stepmint workspaces add acme\n  stepmint workspaces add beta={0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}\n  stepmint workspaces remove acme --yes\n\nA running server serves the workspaces it was started with: restart it to serve a new one."
)]
pub struct WorkspacesArgs {
    #[command(subcommand)]
    pub what: WorkspacesCommand,
    /// Print JSON
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkspacesCommand {
    /// The workspaces of the data directory
    List,
    /// Create a workspace (SLUG, or SLUG=UUID to give its UUID) with its first key
    Add {
        /// SLUG or SLUG=UUID
        #[arg(value_name = "SLUG[=UUID]")]
        spec: String,
    },
    /// Delete a workspace and its keys
    Remove {
        /// The slug
        slug: String,
        /// Do it (the keys are gone for good)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint log\n  stepmint log -n 500\n  stepmint log --follow   # until Ctrl-C\n  stepmint log --all\n  stepmint log --json --follow | jq -r .path   # until Ctrl-C\n\nNeeds: a running server on the data directory (stepmint serve).\nShows the newest records (relying-party traffic, faults and events; --all adds the control\nAPI's own, such as this command's polling), and says on stderr when older ones were cut."
)]
pub struct LogArgs {
    /// Keep printing new requests until interrupted
    #[arg(long, short)]
    pub follow: bool,
    /// Show the newest N records [most: 1000]
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub lines: u64,
    /// Control-API traffic too (the console's, the CLI's, this command's own polling)
    #[arg(long)]
    pub all: bool,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint health\n  stepmint health --wait 10 --json\n  podman healthcheck run stepmint   # needs the container image, whose check is `stepmint health`\n\nNeeds: a running server on the data directory (stepmint serve).\nExit codes: 0 a server runs on the data directory and answers its health check; 1 none does\n(within --wait); 2 usage."
)]
pub struct HealthArgs {
    /// Keep asking for up to SECS seconds until the server answers [default: 0, ask once]
    #[arg(long, value_name = "SECS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub wait: u64,
    /// Print the server's health as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint completions bash > ~/.local/share/bash-completion/completions/stepmint   # needs that directory\n  stepmint completions zsh > \"${fpath[1]}/_stepmint\"   # needs zsh's $fpath\n  stepmint completions fish > ~/.config/fish/completions/stepmint.fish   # needs that directory"
)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint man | man -l -   # needs man (man-db)\n  stepmint man probe | man -l -   # needs man (man-db)\n  stepmint man 'policy check' > stepmint-policy-check.1\n  stepmint man --dir /usr/local/share/man/man1   # needs leave to write there\n\nWithout a command, the whole manual as one document: the root page, then every command's."
)]
pub struct ManArgs {
    /// Only this command's page (`probe`, `fault set` or `fault-set`)
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write stepmint.1 and one page per command (stepmint-mint.1, stepmint-fault-set.1, ...)
    /// into DIR instead
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub what: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Verify a token as the relying party would, then judge it; exit 0 allowed, 1 denied, 2 usage
    Eval(PolicyEvalArgs),
    /// Which steps of a pipelines file get in, which boundary tokens do, and lint findings
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint policy eval trust-policy.json --token \"$(stepmint mint)\"   # needs trust-policy.json\n  stepmint mint --env-uuid {ENV} | stepmint policy eval trust-policy.json --token - --json   # needs the policy and an environment UUID\n  stepmint policy eval vault-role.json --token-file token.jwt --kind vault   # needs both files\n\nThe token is verified with the keys of the local workspace that issued it, then judged with\nthat relying party's rules (AWS: no leeway; Vault: its leeways). Exit codes: 0 allowed,\n1 denied, 2 usage (bad file, unknown kind, malformed policy)."
)]
pub struct PolicyEvalArgs {
    /// The policy file (IAM trust policy, Vault role JSON, GCP provider JSON, Azure credential JSON)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The token text, or - to read it from stdin
    #[arg(
        long,
        value_name = "TOKEN",
        required_unless_present = "token_file",
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,
    /// Read the token from this file
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// aws, vault, gcp or azure [default: detected from the file]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Verify with this workspace's keys [default: the one whose issuer the token names]
    #[arg(long, value_name = "SLUG")]
    pub workspace: Option<String>,
    /// AWS: the role's account; the Federated principal must be in it
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// AWS: a client ID (audience) registered on the IAM OIDC provider (repeatable)
    #[arg(long = "client-id", value_name = "AUD")]
    pub client_ids: Vec<String>,
    /// AWS: the RoleSessionName of the call (sts:RoleSessionName)
    #[arg(long, value_name = "NAME")]
    pub session_name: Option<String>,
    /// GCP: the provider's resource name when the file has no `name`
    #[arg(long, value_name = "NAME")]
    pub gcp_provider: Option<String>,
    /// Print every step of the evaluation
    #[arg(long, short)]
    pub verbose: bool,
    /// Print {"allowed", "kind", "decided_by", "reason", "trace", ...} as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stepmint policy check trust-policy.json --pipelines bitbucket-pipelines.yml   # needs both files\n  stepmint policy check trust-policy.json --pipelines bitbucket-pipelines.yml --env Production={ENV-UUID}   # needs both files\n  stepmint policy check vault-role.json --json | jq '.access[] | select(.allowed)'   # needs the role file\n  stepmint policy check trust-policy.json --sarif policy.sarif --junit policy.xml   # needs the policy file\n\nThe steps' tokens are minted as the issuer would, for the workspace, repository and\nenvironments the policy pins (override with --workspace-uuid, --repository, --env).\nExit codes: 0 ok, 1 a step or boundary token gets in that the policy evidently means to\nkeep out, or an error finding; 2 usage."
)]
pub struct PolicyCheckArgs {
    /// The policy file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The pipelines file whose steps make the access table
    #[arg(long, value_name = "FILE")]
    pub pipelines: Option<PathBuf>,
    /// aws, vault, gcp or azure [default: detected from the file]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// A deployment environment's UUID: NAME=UUID (repeatable)
    #[arg(long = "env", value_name = "NAME=UUID")]
    pub envs: Vec<String>,
    /// The repository's UUID [default: the one the policy pins]
    #[arg(long, value_name = "UUID")]
    pub repository: Option<String>,
    /// The workspace's UUID [default: the one in the policy's aud]
    #[arg(long, value_name = "UUID")]
    pub workspace_uuid: Option<String>,
    /// The issuer URL of the steps' tokens [default: the policy's]
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// AWS: the role's account
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// Also write SARIF 2.1.0 here
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also write JUnit XML here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub time: TimeArgs,
}
