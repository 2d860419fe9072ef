// The one typed door to the Rust side: every invoke goes through here.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Json, JsonObject } from "./lib/json";

export interface KeyInfo { kid: string; alg: string; created: number; published: boolean; state: string; until?: number; publish_at?: number }
export interface WorkspaceInfo { slug: string; uuid: string; issuer: string; discovery: string; jwks_uri: string; active_kid: string; default_audience: string; keys: KeyInfo[] }
export interface Status {
  running: boolean;
  server: null | { base_url: string; bound: string; ca_path: string; bundle_path: string; workspaces: WorkspaceInfo[] };
  data_dir: string;
  settings: { bind: string; port: number; workspaces: { slug: string; uuid?: string }[] };
  note: string | null;
  error: string | null;
}
export interface CaseSummary { name: string; family: string; description: string; expected: string; rule?: string; default_outcome: string; reference: string }
export interface StepRequest {
  workspace?: string; repository_uuid?: string; deployment_environment_uuid?: string; branch?: string;
  audiences?: string[]; lifetime?: number; claims?: JsonObject; header?: JsonObject; case?: string;
}
export interface Minted { token: string; header: Json; claims: Json; case?: CaseSummary; notes?: string[] }
export interface Check { name: string; status: "pass" | "fail" | "skip"; detail: string }
export interface Report { accepted: boolean; verdict: string; reason?: string; checks: Check[] }
export interface Inspection {
  workspace: string; now: number;
  decoded: null | { header: Json; claims: Json; signature_len: number; parts: number; notes: string[] };
  decode_error: string | null; policy: JsonObject; report: Report;
}
export interface RequestRecord { id: number; time: string; peer: string | null; method: string; path: string; status: number; user_agent: string | null; endpoint: string; workspace: string | null; duration_ms: number }
export interface HistoryEntry { id: number; time: number; workspace: string; case?: string; summary: string; token: string }
export type Verdict = "pass" | "fail" | "strict" | "error" | "skip";
export type Severity = "bypass" | "policy" | "hygiene";
/** One case's result; `severity` is set on wrongly accepted rows. The first row is the baseline. */
export interface ProbeRow { case: string; family: string; expected: string; observed: string; verdict: Verdict | string; severity?: Severity | string | null; reference: string; detail: string }
/** A generated token the relying party and the reference validator disagree on, shrunk to its minimal difference. */
export interface Finding {
  id: string; kind: "accepted" | "false_refusal" | string; severity: Severity | string; difference: string[];
  validator: string; detail: string; occurrences: number; reproduce: string; recipe: string;
}
export interface ProbeReport {
  baseline: string; rows: ProbeRow[]; findings: Finding[]; fuzz: null | { sent: number; rate: number; seed: number };
  summary: { total: number; passed: number; failed: number; skipped: number; findings: number }; junit: string; json: Json;
}
/** What the `probe` command takes; every key optional, unknown ones rejected by the Rust side. */
export interface ProbeOptions {
  url?: string | null; exec?: string | null; shell?: boolean; headers?: string[]; audiences?: string[]; sub_like?: string[];
  claims?: string[]; leeway?: number | null; workspace?: string; fuzz?: number | null; seed?: number | null; no_catalogue?: boolean; recipes?: string[];
}
/** A `probe-progress` event: where a run is (`total` is null when unknown; `findings` and `rate` are the fuzz phase's). */
export interface ProbeProgress { phase: "cases" | "fuzz" | "shrink" | string; done: number; total: number | null; findings: number; rate: number }

export const api = {
  status: () => invoke<Status>("status"),
  start: (bind?: string, port?: number) => invoke<Status>("start", { bind, port }),
  stop: () => invoke<Status>("stop"),
  restart: (bind?: string, port?: number) => invoke<Status>("restart", { bind, port }),
  addWorkspace: (workspace: string) => invoke<Status>("add_workspace", { workspace }),
  removeWorkspace: (slug: string) => invoke<Status>("remove_workspace", { slug }),
  keys: (workspace: string) => invoke<KeyInfo[]>("keys", { workspace }),
  rotateKey: (workspace: string, overlap?: number) => invoke<KeyInfo[]>("rotate_key", { workspace, overlap }),
  addKey: (workspace: string, alg: string) => invoke<KeyInfo[]>("add_key", { workspace, alg }),
  trustLines: () => invoke<string>("trust_lines"),
  saveCa: (path: string) => invoke<string>("save_ca", { path }),
  cases: () => invoke<CaseSummary[]>("cases"),
  mint: (request: StepRequest) => invoke<Minted>("mint", { request }),
  inspect: (token: string, workspace?: string, policy?: JsonObject) => invoke<Inspection>("inspect", { token, workspace, policy }),
  requests: (since: number) => invoke<{ requests: RequestRecord[]; next: number }>("requests", { since }),
  history: () => invoke<HistoryEntry[]>("history"),
  clearHistory: () => invoke<void>("clear_history"),
  probe: (options: ProbeOptions) => invoke<ProbeReport>("probe", { options }),
  recipeFromRequest: (request: StepRequest, name: string) => invoke<string>("recipe_from_request", { request, name }),
};

/** Calls `fn` with each `probe-progress` event until the returned function is called. */
export async function onProbeProgress(fn: (p: ProbeProgress) => void): Promise<() => void> {
  const unlisten = await listen<ProbeProgress>("probe-progress", (e) => fn(e.payload));
  // The handler is dropped at once; the Rust side's answer to that is of no use, and a refusal
  // must not surface as an unhandled rejection.
  return () => void Promise.resolve(unlisten()).catch(() => {});
}

/** A rejected invoke's value as a readable message. */
export function message(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return JSON.stringify(e);
}
