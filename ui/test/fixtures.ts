// Typed fixtures shared by the screen tests.
import type { Fault, Policy, Status } from "../src/api";

/** A status, running with one workspace unless `over` says otherwise. */
export function status(over: Partial<Status> = {}): Status {
  return {
    running: true,
    server: {
      base_url: "https://localhost:8443",
      bound: "127.0.0.1:8443",
      ca_path: "/data/ca.pem",
      bundle_path: "/data/bundle.pem",
      workspaces: [],
    },
    data_dir: "/data",
    settings: { bind: "127.0.0.1", port: 8443, workspaces: [{ slug: "stepmint" }] },
    note: null,
    error: null,
    ...over,
  };
}

/** A fault with every switch off, and `over` set. */
export function fault(over: Partial<Fault> = {}): Fault {
  return { reset: false, hang: false, truncate: false, non_json: false, empty_jwks: false, duplicate_kid: false, ...over };
}

/** The validator's default policy for a workspace, with `over` set. */
export function policy(over: Partial<Policy> = {}): Policy {
  return {
    issuer: "https://api.bitbucket.org/2.0/workspaces/stepmint/pipelines-config/identity/oidc",
    audiences: ["ari:cloud:bitbucket::workspace/00000000-0000-4000-8000-000000000000"],
    algorithms: ["RS256"],
    leeway: 30,
    required_claims: ["iss", "aud", "sub", "iat", "exp"],
    sub_like: [],
    conditions: [],
    max_token_len: 16384,
    max_depth: 32,
    require_kid: true,
    forbidden_headers: ["crit", "b64", "zip", "jku", "x5u", "jwk", "x5c"],
    check_claims: true,
    ...over,
  };
}
