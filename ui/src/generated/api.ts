// Generated from the Rust types in src/http/api.rs and the call table in
// src/http/calls.rs: do not edit.
// Regenerate with `STEPMINT_BLESS=1 cargo test --test integration api_types`.

export const CALLS = {
  health: { method: "GET", path: "/health", answer: "json" },
  workspaces: { method: "GET", path: "/workspaces", answer: "json" },
  workspace: { method: "GET", path: "/workspaces/{slug}", answer: "json" },
  mintFor: { method: "POST", path: "/workspaces/{slug}/tokens", answer: "json" },
  keys: { method: "GET", path: "/workspaces/{slug}/keys", answer: "json" },
  addKey: { method: "POST", path: "/workspaces/{slug}/keys", answer: "json" },
  rotateKey: { method: "POST", path: "/workspaces/{slug}/keys/rotate", answer: "json" },
  retireKey: { method: "DELETE", path: "/workspaces/{slug}/keys/{kid}", answer: "json" },
  mint: { method: "POST", path: "/tokens", answer: "json" },
  requests: { method: "GET", path: "/requests", answer: "json" },
  requestStream: { method: "GET", path: "/requests/stream", answer: "events" },
  status: { method: "GET", path: "/status", answer: "json" },
  inspect: { method: "POST", path: "/inspect", answer: "json" },
  history: { method: "GET", path: "/history", answer: "json" },
  clearHistory: { method: "DELETE", path: "/history", answer: "json" },
  trust: { method: "GET", path: "/trust", answer: "json" },
  recipe: { method: "POST", path: "/recipes", answer: "json" },
  probe: { method: "POST", path: "/probe", answer: "events" },
  caPem: { method: "GET", path: "/ca.pem", answer: "pem" },
  faults: { method: "GET", path: "/faults", answer: "json" },
  clearAllFaults: { method: "DELETE", path: "/faults", answer: "json" },
  clearWorkspaceFaults: { method: "DELETE", path: "/faults/{slug}", answer: "json" },
  setFault: { method: "PUT", path: "/faults/{slug}/{endpoint}", answer: "json" },
  clearFault: { method: "DELETE", path: "/faults/{slug}/{endpoint}", answer: "json" },
  awsRoles: { method: "GET", path: "/aws/roles", answer: "json" },
  putAwsRole: { method: "PUT", path: "/aws/roles", answer: "json" },
  deleteAwsRole: { method: "DELETE", path: "/aws/roles/{arn}", answer: "json" },
  gcpProviders: { method: "GET", path: "/gcp/providers", answer: "json" },
  putGcpProvider: { method: "PUT", path: "/gcp/providers", answer: "json" },
  deleteGcpProvider: { method: "DELETE", path: "/gcp/providers/{name}", answer: "json" },
  cases: { method: "GET", path: "/cases", answer: "json" },
  verify: { method: "POST", path: "/verify", answer: "json" },
  policyCheck: { method: "POST", path: "/policies/check", answer: "json" },
} as const;

export type Calls = {
  health: { query: NoQuery, body: NoBody, reply: Health },
  workspaces: { query: NoQuery, body: NoBody, reply: WorkspaceList },
  workspace: { query: NoQuery, body: NoBody, reply: WorkspaceDetails },
  mintFor: { query: NoQuery, body: MintRequest, reply: MintedToken },
  keys: { query: NoQuery, body: NoBody, reply: KeyList },
  addKey: { query: NoQuery, body: AddKeyRequest, reply: KeyAdded },
  rotateKey: { query: NoQuery, body: RotateRequest, reply: Rotation },
  retireKey: { query: NoQuery, body: NoBody, reply: KeyRetired },
  mint: { query: MintQuery, body: MintRequest, reply: MintedToken },
  requests: { query: RequestsQuery, body: NoBody, reply: RequestsPage },
  requestStream: { query: NoQuery, body: NoBody, reply: RequestsPage },
  status: { query: NoQuery, body: NoBody, reply: Status },
  inspect: { query: NoQuery, body: InspectRequest, reply: Inspection },
  history: { query: NoQuery, body: NoBody, reply: HistoryList },
  clearHistory: { query: NoQuery, body: NoBody, reply: HistoryList },
  trust: { query: NoQuery, body: NoBody, reply: TrustLines },
  recipe: { query: NoQuery, body: RecipeRequest, reply: RecipeText },
  probe: { query: NoQuery, body: ProbeOptions, reply: ProbeReport },
  caPem: { query: NoQuery, body: NoBody, reply: string },
  faults: { query: NoQuery, body: NoBody, reply: FaultList },
  clearAllFaults: { query: NoQuery, body: NoBody, reply: FaultsCleared },
  clearWorkspaceFaults: { query: NoQuery, body: NoBody, reply: FaultsCleared },
  setFault: { query: NoQuery, body: Fault, reply: FaultList },
  clearFault: { query: NoQuery, body: NoBody, reply: FaultsCleared },
  awsRoles: { query: NoQuery, body: NoBody, reply: AwsRoleList },
  putAwsRole: { query: NoQuery, body: AwsRoleRequest, reply: AwsRoleList },
  deleteAwsRole: { query: NoQuery, body: NoBody, reply: AwsRoleList },
  gcpProviders: { query: NoQuery, body: NoBody, reply: GcpProviderList },
  putGcpProvider: { query: NoQuery, body: GcpProviderRequest, reply: GcpProviderList },
  deleteGcpProvider: { query: NoQuery, body: NoBody, reply: GcpProviderList },
  cases: { query: NoQuery, body: NoBody, reply: CaseList },
  verify: { query: NoQuery, body: VerifyRequest, reply: Verification },
  policyCheck: { query: NoQuery, body: PolicyCheckRequest, reply: PolicyCheckReport },
};

export type AddKeyRequest = { 
/**
 * `RS256`, `ES256` or `EdDSA`.
 */
alg: KeyAlg, 
/**
 * Keep it out of the JWKS (a key staged for a later rotation).
 */
staged: boolean, 
/**
 * For a staged key: publish it this many seconds from now.
 */
publish_in?: number | null, };

export type AwsRoleList = { 
/**
 * The emulated STS endpoint (`AWS_ENDPOINT_URL_STS`).
 */
aws_sts: string, 
/**
 * Every role, by ARN.
 */
roles: Array<AwsRoleView>, };

export type AwsRoleRequest = { 
/**
 * `arn:aws:iam::ACCOUNT:role/NAME`.
 */
arn: string, 
/**
 * The trust policy (an IAM policy document).
 */
policy: JsonValue, };

export type AwsRoleView = { 
/**
 * `arn:aws:iam::ACCOUNT:role/NAME`.
 */
arn: string, 
/**
 * The account, from the ARN.
 */
account: string, 
/**
 * The role's name, from the ARN.
 */
name: string, 
/**
 * The trust policy, as given.
 */
policy: JsonValue, };

export type CaseList = { 
/**
 * Every case.
 */
cases: Array<CaseSummary>, };

export type CaseSummary = { 
/**
 * Stable kebab-case name.
 */
name: string, 
/**
 * Family.
 */
family: Family, 
/**
 * One line on what the token is.
 */
description: string, 
/**
 * `refuse`, `accept` or `policy`.
 */
expected: string, 
/**
 * For `policy` cases, the rule that decides.
 */
rule?: string | null, 
/**
 * The outcome under the validator's default policy.
 */
default_outcome: Outcome, 
/**
 * CVE, RFC section, or Bitbucket behaviour.
 */
reference: string, 
/**
 * Who could exploit a relying party that accepts it.
 */
exploitable_by: ExploitableBy, 
/**
 * Why: how such a token is obtained, or why Bitbucket never issues one.
 */
exploit: string, };

export type Check = { 
/**
 * `structure`, `header`, `key`, `signature`, `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`,
 * `claims`, or `condition:NAME`.
 */
name: string, 
/**
 * Outcome.
 */
status: CheckStatus, 
/**
 * Why.
 */
detail: string, 
/**
 * For failures, the kind.
 */
refusal?: Refusal | null, };

export type CheckStatus = "pass" | "fail" | "skip";

export type Condition = { 
/**
 * The claim name.
 */
claim: string, } & ({ "equals": JsonValue } | { "like": string } | { "one-of": Array<JsonValue> });

export type DecodedToken = { 
/**
 * The protected header.
 */
header: JsonValue, 
/**
 * The payload, parsed as JSON when it is JSON, else as a string.
 */
claims: JsonValue, 
/**
 * Length of the signature in bytes (0 when absent).
 */
signature_len: number, 
/**
 * How many dot-separated parts the token has.
 */
parts: number, 
/**
 * Things a careful reader should know (padding, non-JSON payload, extra parts, a member
 * given twice...).
 */
notes: Array<string>, 
/**
 * The header as its raw text (invalid UTF-8 replaced).
 */
raw_header: string, 
/**
 * The payload as its raw text (invalid UTF-8 replaced).
 */
raw_payload: string, };

export type Edit = { "op": "set_claim", 
/**
 * The claim.
 */
name: string, 
/**
 * Its new value (any JSON; see [`nullable`] for how `null` is written in TOML).
 */
value: JsonValue, } | { "op": "remove_claim", 
/**
 * The claim.
 */
name: string, } | { "op": "set_time", 
/**
 * The claim (`exp`, `nbf`, `iat`, or any other).
 */
name: string, 
/**
 * Seconds from the minting time (negative: in the past).
 */
offset: number, } | { "op": "set_header", 
/**
 * The member.
 */
name: string, 
/**
 * Its new value.
 */
value: JsonValue, } | { "op": "remove_header", 
/**
 * The member.
 */
name: string, } | { "op": "sign", 
/**
 * Who signs, written as text (`attacker-rs256`, `hs256:SECRET`, `kid:KID`...).
 */
with: string, } | { "op": "raw_header", 
/**
 * JSON text, or anything.
 */
json: string, } | { "op": "raw_payload", 
/**
 * JSON text, or anything.
 */
json: string, } | { "op": "encoding", 
/**
 * What changes.
 */
change: EncodingEdit, };

export type EncodingEdit = "pad" | "drop-signature" | "two-parts" | "extra-part" | "flip-signature" | "non-canonical" | "trailing-space";

export type Endpoint = "discovery" | "jwks" | "control" | "attacker" | "other";

export type EtagMode = "never-changes" | "always-changes";

export type ExploitableBy = "anyone" | "any_workspace" | "same_workspace_repo" | "branch_pusher" | "token_holder" | "nobody";

export type Family = "baseline" | "time" | "identity" | "algorithm" | "signature" | "header-injection" | "parser";

export type Fault = { 
/**
 * Added latency in milliseconds: `[fixed]` or `[min, max]` (uniformly random).
 */
latency_ms?: Array<number> | null, 
/**
 * Answer with this status (4xx or 5xx) instead of the document.
 */
status?: number | null, 
/**
 * `Retry-After` seconds, with a status.
 */
retry_after?: number | null, 
/**
 * Fail only the next N requests (with `status`, default 503), then recover.
 */
fail_next?: number | null, 
/**
 * Reset the connection part-way through the body.
 */
reset: boolean, 
/**
 * Never answer (past any client timeout).
 */
hang: boolean, 
/**
 * Send only the first half of the body.
 */
truncate: boolean, 
/**
 * Send a body that is not JSON.
 */
non_json: boolean, 
/**
 * Send this `Content-Type` instead of `application/json`.
 */
content_type?: string | null, 
/**
 * Add this `Cache-Control` (`no-store`, `max-age=31536000`, ...).
 */
cache_control?: string | null, 
/**
 * Add a misbehaving `ETag`.
 */
etag?: EtagMode | null, 
/**
 * JWKS only: serve `{"keys": []}`.
 */
empty_jwks: boolean, 
/**
 * JWKS only: add a second key under the signing key's `kid`.
 */
duplicate_kid: boolean, };

export type FaultEndpoint = "discovery" | "jwks";

export type FaultEntry = { 
/**
 * Workspace slug.
 */
workspace: string, 
/**
 * Endpoint.
 */
endpoint: FaultEndpoint, 
/**
 * The fault.
 */
fault: Fault, 
/**
 * For `fail_next`: failures left.
 */
remaining?: number | null, };

export type FaultList = { 
/**
 * Every fault, by workspace and endpoint.
 */
faults: Array<FaultEntry>, };

export type FaultsCleared = { 
/**
 * How many were cleared.
 */
cleared: number, 
/**
 * The faults left.
 */
faults: Array<FaultEntry>, };

export type Finding = { 
/**
 * Stable id.
 */
id: string, 
/**
 * A hostile token accepted, or a genuine one refused.
 */
kind: FindingKind, 
/**
 * How bad it is.
 */
severity: Severity, 
/**
 * Who could exploit a relying party that accepts this token.
 */
exploitable_by: ExploitableBy, 
/**
 * How such a token is obtained, or why nobody can obtain one.
 */
exploit: string, 
/**
 * For a branch pusher: the branch they would push.
 */
attacker_branch: string | null, 
/**
 * The minimal difference from a genuine token.
 */
difference: Array<string>, 
/**
 * What the reference validator said.
 */
validator: string, 
/**
 * What the relying party said.
 */
detail: string, 
/**
 * How many generated tokens shrank to it.
 */
occurrences: number, 
/**
 * The command that replays it.
 */
reproduce: string, 
/**
 * The recipe (TOML) that replays it.
 */
recipe: string, };

export type FindingKind = "accepted" | "false_refusal";

export type FuzzFigures = { 
/**
 * Generated tokens sent.
 */
sent: number, 
/**
 * Tokens per second.
 */
rate: number, 
/**
 * The seed.
 */
seed: number, };

export type GcpProviderList = { 
/**
 * The emulated STS's token URL (an external-account credential's `token_url`).
 */
gcp_sts: string, 
/**
 * Every provider, by name.
 */
providers: Array<GcpProviderView>, };

export type GcpProviderRequest = { 
/**
 * `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
 */
name: string, 
/**
 * The provider (as `gcloud iam workload-identity-pools providers describe --format=json`
 * prints it: `attributeMapping`, `attributeCondition`, `oidc`).
 */
provider: JsonValue, };

export type GcpProviderView = { 
/**
 * `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
 */
name: string, 
/**
 * The audience an external-account credential names it by: `//iam.googleapis.com/` + `name`.
 */
audience: string, 
/**
 * The provider, as given.
 */
provider: JsonValue, };

export type Health = { 
/**
 * `ok`.
 */
status: string, 
/**
 * The server's version.
 */
version: string, 
/**
 * Seconds since it started.
 */
uptime_s: number, 
/**
 * How many workspaces it serves.
 */
workspaces: number, };

export type HistoryEntry = { 
/**
 * Increasing id.
 */
id: number, 
/**
 * When it was minted (Unix seconds).
 */
time: number, 
/**
 * The workspace.
 */
workspace: string, 
/**
 * The catalogue case, if crafted from one.
 */
case?: string | null, 
/**
 * `sub`, or the case name.
 */
summary: string, 
/**
 * The token (empty when it was too long to keep).
 */
token: string, 
/**
 * Where it was minted (none for entries written before origins were kept).
 */
origin?: MintOrigin | null, };

export type HistoryList = { 
/**
 * The entries.
 */
history: Array<HistoryEntry>, };

export type InspectRequest = { 
/**
 * The token.
 */
token: string, 
/**
 * The workspace whose keys and policy judge it. Default: the first.
 */
workspace?: string | null, 
/**
 * Policy members over the workspace's default policy.
 */
policy?: PolicyOverrides | null, };

export type Inspection = { 
/**
 * The workspace whose keys and policy judged it.
 */
workspace: string, 
/**
 * The time it was judged at (Unix seconds).
 */
now: number, 
/**
 * The token as decoded, without verification; `None` when it does not decode.
 */
decoded: DecodedToken | null, 
/**
 * Why it does not decode.
 */
decode_error: string | null, 
/**
 * The policy applied.
 */
policy: Policy, 
/**
 * The validator's report.
 */
report: Report, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type KeyAdded = { 
/**
 * The new key's id.
 */
kid: string, 
/**
 * Its algorithm.
 */
alg: KeyAlg, };

export type KeyAlg = "RS256" | "ES256" | "EdDSA";

export type KeyList = { 
/**
 * The key ring.
 */
keys: Array<KeyView>, };

export type KeyRetired = { 
/**
 * The retired key's id.
 */
retired: string, };

export type KeyView = { 
/**
 * The key id.
 */
kid: string, 
/**
 * Its algorithm.
 */
alg: KeyAlg, 
/**
 * When it was generated (Unix seconds).
 */
created: number, 
/**
 * Whether it is in the JWKS now.
 */
published: boolean, } & ({ "state": "staged", 
/**
 * When it appears in the JWKS (Unix seconds), if scheduled.
 */
publish_at?: number | null, } | { "state": "active" } | { "state": "published", 
/**
 * When a scheduled key was published (Unix seconds).
 */
published_at?: number | null, } | { "state": "retiring", 
/**
 * When it leaves the JWKS.
 */
until: number, });

export type ListenSettings = { 
/**
 * The listen address.
 */
bind: string, 
/**
 * The port.
 */
port: number, 
/**
 * The workspaces asked for.
 */
workspaces: Array<WorkspaceSpec>, };

export type MintOrigin = "console" | "app" | "cli" | "api";

export type MintQuery = { 
/**
 * `true`: the console's Crafter minting, kept in the history before the answer; `false`:
 * not kept. Default: kept as the control API's, in the background.
 */
history?: boolean | null, };

export type MintRequest = { 
/**
 * Workspace slug. Default: the first served workspace.
 */
workspace?: string | null, 
/**
 * Repository UUID. Default: the workspace's persisted default repository.
 */
repository_uuid?: string | null, 
/**
 * Step UUID. Default: random.
 */
step_uuid?: string | null, 
/**
 * Pipeline UUID. Default: random.
 */
pipeline_uuid?: string | null, 
/**
 * Deployment environment UUID; makes this a deployment step. Default: none.
 */
deployment_environment_uuid?: string | null, 
/**
 * Branch name. Default: `main`.
 */
branch?: string | null, 
/**
 * Custom audiences appended to the default one (at most 10, each at most 150 characters).
 */
audiences: Array<string>, 
/**
 * Lifetime in seconds (1 to one year). Default: the issuer's (3600).
 */
lifetime?: number | null, 
/**
 * Claims merged over the defaults; `null` removes a claim.
 */
claims: { [key in string]?: JsonValue }, 
/**
 * Header members merged over the defaults; `null` removes one. The signature is made by
 * the signer (a crafting's `sign_with`) whatever `alg` says.
 */
header: { [key in string]?: JsonValue }, 
/**
 * A catalogue case by name (`stepmint cases`). Excludes the raw fields below.
 */
case?: string | null, 
/**
 * The header as raw JSON text, used byte for byte (duplicate keys, invalid JSON).
 */
header_json?: string | null, 
/**
 * The payload as raw JSON text, used byte for byte.
 */
payload_json?: string | null, 
/**
 * Who signs (a [`Signer`]: `workspace` by default, `kid:KID`, `ps256`,
 * `attacker-rs256`, `attacker-es256`, `attacker-eddsa`, `hs256:SECRET`,
 * `hs256-public-pem`, `hs256-public-der` or `none`); the header declares its `alg` and `kid`.
 */
sign_with?: string | null, 
/**
 * Send no signature (`header.payload.`).
 */
drop_signature: boolean, 
/**
 * Edits applied to the genuine token, in order (a recipe's `edits`). Excludes `case` and
 * the raw fields above.
 */
edits: Array<Edit>, };

export type MintedToken = { 
/**
 * The token (compact JWS, or whatever shape a crafted case has).
 */
token: string, 
/**
 * The header: a JSON object, or the raw text when it is not one.
 */
header: JsonValue, 
/**
 * The claims: a JSON object, or the raw text when they are not one.
 */
claims: JsonValue, 
/**
 * The catalogue case this token was made for.
 */
case?: CaseSummary | null, 
/**
 * What is deliberately odd about it.
 */
notes?: Array<string>, 
/**
 * Set when the token was minted but something asked for with it failed: it was not kept in
 * the history (a full disk, say). The token itself is good.
 */
warning?: string | null, };

export type NoBody = Record<string, never>;

export type NoQuery = Record<string, never>;

export type Outcome = "accept" | "refuse";

export type Policy = { 
/**
 * `iss` must equal this exactly. Default: none (not checked).
 */
issuer?: string | null, 
/**
 * `aud` must contain at least one of these. Default: empty (not checked).
 */
audiences: Array<string>, 
/**
 * Allowed `alg` values. Default: `["RS256"]`.
 */
algorithms: Array<string>, 
/**
 * Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds. Default: 30.
 */
leeway: number, 
/**
 * The oldest `iat` accepted, in seconds before now. Default: none.
 */
max_age?: number | null, 
/**
 * Claims that must be present. Default: `iss aud sub iat exp`.
 */
required_claims: Array<string>, 
/**
 * `sub` must match one of these AWS `StringLike` patterns (`*`, `?`). Default: none.
 */
sub_like: Array<string>, 
/**
 * Conditions on any claim. Default: none.
 */
conditions: Array<Condition>, 
/**
 * Longest token accepted, in bytes. Default: 16 KiB.
 */
max_token_len: number, 
/**
 * Deepest JSON nesting accepted in header and payload. Default: 32.
 */
max_depth: number, 
/**
 * Refuse tokens without a `kid` header. Default: true (Bitbucket always sends one).
 */
require_kid: boolean, 
/**
 * Header members that make a token refused. Default: `crit b64 zip jku x5u jwk x5c`.
 */
forbidden_headers: Array<string>, 
/**
 * Check the payload's claims at all. Default: true; false checks structure and signature
 * only (for JOSE test vectors whose payload is not a claim set).
 */
check_claims: boolean, };

export type PolicyAccessRow = { 
/**
 * The step.
 */
step: string, 
/**
 * Where it is.
 */
location: string, 
/**
 * Its branch (pattern).
 */
branch: string | null, 
/**
 * Its deployment environment.
 */
environment: string | null, 
/**
 * Whether it gets in.
 */
allowed: boolean, 
/**
 * Why.
 */
reason: string, 
/**
 * What decided.
 */
decided_by: string, 
/**
 * It gets in although the policy evidently means to keep it out.
 */
unexpected: boolean, };

export type PolicyBoundaryRow = { 
/**
 * What the token is (`other repository`, ...).
 */
token: string, 
/**
 * What changed from the in-scope token.
 */
change: string, 
/**
 * Whether it gets in.
 */
allowed: boolean, 
/**
 * Why.
 */
why: string, 
/**
 * Whether the policy evidently means it in (`true`), out (`false`), or does not say.
 */
expected: boolean | null, 
/**
 * It gets in although the policy evidently means to keep it out.
 */
unexpected: boolean, 
/**
 * The token's claims.
 */
claims: { [key in string]?: JsonValue }, };

export type PolicyCheckReport = { 
/**
 * The kind of relying party.
 */
kind: PolicyKind, 
/**
 * What the policy evidently pins.
 */
scope: PolicyScope, 
/**
 * Every step of the pipelines file.
 */
access: Array<PolicyAccessRow>, 
/**
 * Boundary tokens derived from the policy.
 */
boundary: Array<PolicyBoundaryRow>, 
/**
 * Lint findings, most severe first.
 */
findings: Array<PolicyFinding>, 
/**
 * Whether the check fails (exit 1).
 */
failed: boolean, 
/**
 * Assumptions the report rests on (identities it inferred, what it could not know).
 */
notes: Array<string>, };

export type PolicyCheckRequest = { 
/**
 * The policy document's text (JSON).
 */
policy: string, 
/**
 * `aws`, `vault`, `gcp` or `azure` [default: from the document's members].
 */
kind?: string | null, 
/**
 * A `bitbucket-pipelines.yml` text whose steps fill the access table.
 */
pipelines?: string | null, 
/**
 * The served workspace whose issuer and UUID the steps use where the policy pins none.
 */
workspace?: string | null, };

export type PolicyFinding = { 
/**
 * Stable identifier (`sub-unconstrained`, `for-all-values-missing-key`, ...).
 */
id: string, 
/**
 * How bad it is.
 */
severity: PolicySeverity, 
/**
 * What is wrong, naming the statement and key.
 */
message: string, 
/**
 * What to change.
 */
fix: string, 
/**
 * Where: the statement or field, with its line when known.
 */
at?: string, 
/**
 * The 1-based line in the document, when known.
 */
line?: number, };

export type PolicyKind = "aws" | "vault" | "gcp" | "azure";

export type PolicyOverrides = { 
/**
 * `iss` must equal this.
 */
issuer?: string | null, 
/**
 * `aud` must contain one of these (given: replaces the base's).
 */
audiences: Array<string>, 
/**
 * Allowed `alg` values (given: replaces the base's).
 */
algorithms: Array<string>, 
/**
 * Clock-skew allowance in seconds.
 */
leeway?: number | null, 
/**
 * The oldest `iat` accepted, in seconds before now.
 */
max_age?: number | null, 
/**
 * `sub` patterns, AWS `StringLike` (given: replaces the base's).
 */
sub_like: Array<string>, 
/**
 * Claim conditions, added to the base's.
 */
conditions: Array<Condition>, 
/**
 * Claim conditions as `KEY=PATTERN` text (the CLI's `--claim`), added to the base's.
 */
claims: Array<string>, 
/**
 * Claims that must be present (given: replaces the base's).
 */
required_claims?: Array<string> | null, 
/**
 * Refuse tokens without `kid`.
 */
require_kid?: boolean | null, 
/**
 * Longest token accepted, in bytes.
 */
max_token_len?: number | null, 
/**
 * Deepest JSON nesting accepted.
 */
max_depth?: number | null, 
/**
 * Header members that make a token refused (given: replaces the base's).
 */
forbidden_headers?: Array<string> | null, 
/**
 * Check the payload's claims at all.
 */
check_claims?: boolean | null, };

export type PolicyScope = { 
/**
 * The issuer the relying party trusts.
 */
issuer: string | null, 
/**
 * The workspace UUID (from an `aud` ARI or `workspaceUuid`), braced.
 */
workspace_uuid: string | null, 
/**
 * The repository UUID leading `sub` (or `repositoryUuid`), braced.
 */
repository_uuid: string | null, 
/**
 * Deployment environment UUIDs the policy admits, braced.
 */
environment_uuids: Array<string>, 
/**
 * Branches the policy compares `branchName` to (whether or not the relying party sees it).
 */
branches: Array<string>, 
/**
 * Audiences other than the workspace ARI the policy requires (a custom audience the
 * pipeline must ask for).
 */
custom_audiences: Array<string>, };

export type PolicySeverity = "info" | "warning" | "error";

export type ProbeOptions = { 
/**
 * The relying party's URL (or `exec`).
 */
url?: string | null, 
/**
 * A command relying party.
 */
exec?: string | null, 
/**
 * Run `exec` with `sh -c`.
 */
shell: boolean, 
/**
 * `Name: value` header lines.
 */
headers: Array<string>, 
/**
 * Accepted audiences (default: the workspace's).
 */
audiences: Array<string>, 
/**
 * `sub` patterns (StringLike).
 */
sub_like: Array<string>, 
/**
 * Claim conditions, `KEY=PATTERN`.
 */
claims: Array<string>, 
/**
 * Leeway in seconds.
 */
leeway?: number | null, 
/**
 * The oldest `iat` the relying party accepts, in seconds before now.
 */
max_age?: number | null, 
/**
 * The workspace (default: the first).
 */
workspace?: string | null, 
/**
 * Generated tokens after the fixed cases.
 */
fuzz?: number | null, 
/**
 * The fuzz seed (default 1).
 */
seed?: number | null, 
/**
 * Skip the catalogue and the policy-boundary cases.
 */
no_catalogue: boolean, 
/**
 * Recipes as TOML texts.
 */
recipes: Array<string>, };

export type ProbeProgress = { 
/**
 * `cases`, `fuzz` or `shrink`.
 */
phase: string, 
/**
 * Tokens done in this phase.
 */
done: number, 
/**
 * How many there will be, when known.
 */
total: number | null, 
/**
 * Hostile tokens accepted so far (fuzz).
 */
findings: number, 
/**
 * Tokens per second (fuzz).
 */
rate: number, };

export type ProbeReport = { 
/**
 * `baseline accepted`, or why the relying party could not be tested.
 */
baseline: string, 
/**
 * Every case, the baseline first.
 */
rows: Array<ProbeRow>, 
/**
 * Generated tokens the relying party and the validator disagree on.
 */
findings: Array<Finding>, 
/**
 * The fuzz phase's figures, when it ran.
 */
fuzz: FuzzFigures | null, 
/**
 * Counts.
 */
summary: ProbeSummary, 
/**
 * The report as JUnit XML.
 */
junit: string, 
/**
 * The whole report, as `stepmint probe --json` prints it.
 */
json: JsonValue, };

export type ProbeRow = { 
/**
 * The case.
 */
case: string, 
/**
 * Its family.
 */
family: string, 
/**
 * What the token should get.
 */
expected: Outcome, 
/**
 * What the relying party did.
 */
observed: string, 
/**
 * How the relying party did.
 */
verdict: Verdict, 
/**
 * How bad a wrongly accepted token is.
 */
severity: Severity | null, 
/**
 * Who could exploit a relying party that accepts this token (none for the baseline).
 */
exploitable_by: ExploitableBy | null, 
/**
 * How such a token is obtained, or why nobody can obtain one.
 */
exploit: string, 
/**
 * For a branch pusher: the branch they would push.
 */
attacker_branch: string | null, 
/**
 * CVE, RFC section or rule.
 */
reference: string, 
/**
 * The relying party's answer, in short.
 */
detail: string, };

export type ProbeSummary = { 
/**
 * Rows.
 */
total: number, 
/**
 * Rows that passed.
 */
passed: number, 
/**
 * Rows that failed.
 */
failed: number, 
/**
 * Rows skipped or in error.
 */
skipped: number, 
/**
 * Fuzz findings.
 */
findings: number, 
/**
 * Wrongly accepted cases and findings someone could exploit (what fails a run).
 */
exploitable: number, 
/**
 * Wrongly accepted cases and findings nobody could exploit (hygiene).
 */
hygiene: number, };

export type RecipeRequest = { 
/**
 * The Crafter's request.
 */
request: MintRequest, 
/**
 * The recipe's name. Default: `crafted`.
 */
name?: string, };

export type RecipeText = { 
/**
 * The recipe as TOML.
 */
toml: string, };

export type Refusal = "structure" | "header" | "algorithm" | "key" | "signature" | "payload" | "claim-type" | "missing-claim" | "issuer" | "audience" | "expired" | "not-yet-valid" | "issued-at" | "subject" | "condition";

export type Report = { 
/**
 * True when every check passed or was skipped, and the signature verified.
 */
accepted: boolean, 
/**
 * `accepted` or `refused`.
 */
verdict: string, 
/**
 * The first failure's detail, when refused.
 */
reason?: string | null, 
/**
 * Every check, in order.
 */
checks: Array<Check>, 
/**
 * The header, when it parsed.
 */
header?: JsonValue | null, 
/**
 * The claims, when they parsed (not trusted unless accepted).
 */
claims?: JsonValue | null, };

export type RequestRecord = { 
/**
 * Increasing id (use as `since`).
 */
id: number, 
/**
 * When it arrived; RFC 3339 UTC with milliseconds in JSON.
 */
time: string, 
/**
 * The client's address (`"127.0.0.1:5000"` in JSON).
 */
peer: string | null, 
/**
 * HTTP method.
 */
method: string, 
/**
 * Path and query (at most 512 bytes, then `... [N bytes cut]`).
 */
path: string, 
/**
 * Response status.
 */
status: number, 
/**
 * The `User-Agent` header (at most 512 bytes, then `... [N bytes cut]`).
 */
user_agent: string | null, 
/**
 * What it was for.
 */
endpoint: Endpoint, 
/**
 * The workspace slug, for issuer paths.
 */
workspace: string | null, 
/**
 * Time to the response head, in milliseconds.
 */
duration_ms: number, 
/**
 * Internal error detail, for 5xx responses.
 */
error?: string | null, 
/**
 * The injected fault this response carried, if any (the fault as set, JSON).
 */
fault?: string | null, 
/**
 * What that fault did to this response, in a few words (`status 500`, `hang`, `delay 2s`):
 * what the console's Log shows on the row.
 */
fault_summary?: string | null, };

export type RequestsPage = { 
/**
 * The requests after `since`, oldest first: at most `limit`, and never more than 1000.
 */
requests: Array<RequestRecord>, 
/**
 * The `since` for the next page.
 */
next: number, 
/**
 * Records after `since` this page left out: older ones when the newest were asked for,
 * newer ones otherwise (read on from `next`).
 */
left_out: number, };

export type RequestsQuery = { 
/**
 * Records after this id. Default: 0 (from the oldest kept).
 */
since: number, 
/**
 * At most this many (default 500; more reads as the cap).
 */
limit: number, 
/**
 * Control-plane traffic too. Default: false (relying-party traffic only).
 */
all: boolean, 
/**
 * The newest `limit` records after `since` rather than the oldest. Default: false.
 */
newest: boolean, };

export type RotateRequest = { 
/**
 * Seconds the old key stays published. Default: the token lifetime.
 */
overlap?: number | null, 
/**
 * Seconds the new key signs before it is published. Default: 0.
 */
unpublished_for?: number | null, };

export type Rotation = { 
/**
 * The key that signs now.
 */
active_kid: string, 
/**
 * Seconds the previous key stays published.
 */
overlap: number, 
/**
 * The key ring after the rotation.
 */
keys: Array<KeyView>, };

export type ServerView = { 
/**
 * The public base URL.
 */
base_url: string, 
/**
 * The address bound.
 */
bound: string, 
/**
 * The CA certificate file.
 */
ca_path: string, 
/**
 * System roots plus the CA.
 */
bundle_path: string, 
/**
 * The served workspaces, with keys.
 */
workspaces: Array<WorkspaceDetails>, };

export type Severity = "bypass" | "policy" | "hygiene";

export type Status = { 
/**
 * Whether a server runs (the app can stop its own; the console's always runs).
 */
running: boolean, 
/**
 * The running server.
 */
server: ServerView | null, 
/**
 * The data directory.
 */
data_dir: string, 
/**
 * What the server listens on and serves.
 */
settings: ListenSettings, 
/**
 * A note for the user (a port that was busy, say).
 */
note: string | null, 
/**
 * Why the server is not running.
 */
error: string | null, };

export type TrustLines = { 
/**
 * `export ...` lines.
 */
lines: string, };

export type Verdict = "pass" | "fail" | "strict" | "error" | "skip";

export type Verification = { 
/**
 * The workspace whose keys were used.
 */
workspace: string, 
/**
 * The policy applied.
 */
policy: Policy, 
/**
 * The validator's report.
 */
report: Report, };

export type VerifyRequest = { 
/**
 * The token.
 */
token: string, 
/**
 * The workspace whose keys and issuer to use. Default: the first.
 */
workspace?: string | null, 
/**
 * Policy members over the workspace's default policy (issuer and default audience).
 */
policy: PolicyOverrides, };

export type WorkspaceDetails = { 
/**
 * The key ring, as of the request.
 */
keys: Array<KeyView>, 
/**
 * The repository UUID a token gets when the request names none, in braces.
 */
default_repository_uuid: string, 
/**
 * The slug.
 */
slug: string, 
/**
 * The UUID, in braces.
 */
uuid: string, 
/**
 * The issuer URL.
 */
issuer: string, 
/**
 * The discovery document URL.
 */
discovery: string, 
/**
 * The JWKS URL.
 */
jwks_uri: string, 
/**
 * The `kid` new tokens are signed with.
 */
active_kid: string, 
/**
 * The audience a token gets when the request names none
 * (`ari:cloud:bitbucket::workspace/UUID`, the UUID without braces).
 */
default_audience: string, };

export type WorkspaceInfo = { 
/**
 * The slug.
 */
slug: string, 
/**
 * The UUID, in braces.
 */
uuid: string, 
/**
 * The issuer URL.
 */
issuer: string, 
/**
 * The discovery document URL.
 */
discovery: string, 
/**
 * The JWKS URL.
 */
jwks_uri: string, 
/**
 * The `kid` new tokens are signed with.
 */
active_kid: string, 
/**
 * The audience a token gets when the request names none
 * (`ari:cloud:bitbucket::workspace/UUID`, the UUID without braces).
 */
default_audience: string, };

export type WorkspaceList = { 
/**
 * Every served workspace, the default first.
 */
workspaces: Array<WorkspaceInfo>, };

export type WorkspaceSpec = { 
/**
 * The workspace slug (lower-case letters, digits, `-`, `_`, `.`).
 */
slug: string, 
/**
 * The workspace UUID, braces optional. Default: generated once and persisted.
 */
uuid?: string | null, };
