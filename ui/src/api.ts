// The one typed door to the Rust side: every invoke and every fetch goes through here.
//
// The same front end runs in two places: inside the desktop app (Tauri commands through `invoke`)
// and in a plain browser as the web console `stepmint serve` offers at `/_stepmint/ui/` (the
// control API's JSON endpoints under `/_stepmint/v1`, same origin). One transport is chosen at
// start; every `api.*` method answers the same types in both.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

// Every wire shape comes from the Rust types (src/http/api.rs) through the generated file; the
// names below are the screens' names for some of them.
import type * as Wire from "./generated/api";
import { CALLS } from "./generated/api";
import type {
  CaseSummary, Check, CheckStatus, Endpoint, EtagMode, ExploitableBy, Fault, FaultEndpoint, FaultEntry, Finding, HistoryEntry, Inspection, MintOrigin, ProbeOptions,
  Policy, PolicyCheckReport, PolicyCheckRequest, PolicyFinding, PolicyOverrides, ProbeProgress, ProbeReport, ProbeRow, Report, RequestRecord, Severity, Status, Verdict,
} from "./generated/api";
export type {
  CaseSummary, Check, CheckStatus, Endpoint, EtagMode, ExploitableBy, Fault, FaultEndpoint, FaultEntry, Finding, HistoryEntry, Inspection, MintOrigin, ProbeOptions,
  Policy, PolicyCheckReport, PolicyCheckRequest, PolicyFinding, PolicyOverrides, ProbeProgress, ProbeReport, ProbeRow, Report, RequestRecord, Severity, Status, Verdict,
};
/** A key as listed: its state's fields (`until`, `publish_at`, `published_at`) with the state. */
export type KeyInfo = Wire.KeyView;
/** A served workspace with its keys and token defaults. */
export type WorkspaceInfo = Wire.WorkspaceDetails;
/** What a mint answers. */
export type Minted = Wire.MintedToken;
/** What clearing faults answers: how many went, and those still active. */
export type Cleared = Wire.FaultsCleared;
/** What the Crafter sends: any members of the Rust `StepRequest` (the rest take their defaults). */
export type StepRequest = Partial<Wire.StepRequest>;
/** Options of a new key: staged keys sign nothing and stay out of the JWKS until `publishIn` seconds. */
export interface AddKeyOptions { staged?: boolean; publishIn?: number | null }

/** Every call the screens make; both transports implement all of it. */
export interface Api {
  status(): Promise<Status>;
  /** App only (the console drives a running `stepmint serve`). */
  start(bind?: string, port?: number): Promise<Status>;
  stop(): Promise<Status>;
  restart(bind?: string, port?: number): Promise<Status>;
  addWorkspace(workspace: string): Promise<Status>;
  removeWorkspace(slug: string): Promise<Status>;
  keys(workspace: string): Promise<KeyInfo[]>;
  rotateKey(workspace: string, overlap?: number | null): Promise<KeyInfo[]>;
  addKey(workspace: string, alg: string, options?: AddKeyOptions): Promise<KeyInfo[]>;
  retireKey(workspace: string, kid: string): Promise<KeyInfo[]>;
  trustLines(): Promise<string>;
  /** App only: copies the CA to a path; answers where. */
  saveCa(path: string): Promise<string>;
  /** Console only: the CA certificate's PEM text (the console offers it as a download). */
  caPem(): Promise<string>;
  cases(): Promise<CaseSummary[]>;
  mint(request: StepRequest): Promise<Minted>;
  inspect(token: string, workspace?: string, policy?: Partial<PolicyOverrides>): Promise<Inspection>;
  /** `policy check` on a pasted policy (and pipelines text): access table, boundary tokens, findings. */
  policyCheck(request: PolicyCheckRequest): Promise<PolicyCheckReport>;
  requests(since: number): Promise<Wire.RequestsPage>;
  /**
   * Console only: calls `onRecords` with the log's records after `since` and then each new one
   * as it comes (a server-sent event stream; polling when the stream fails). Returns a stop function.
   */
  watchRequests(since: number, onRecords: (records: RequestRecord[]) => void): () => void;
  history(): Promise<HistoryEntry[]>;
  clearHistory(): Promise<void>;
  /**
   * Runs a probe; `onProgress` gets the live progress events while it runs. In the console,
   * aborting `signal` cancels it: the server stops a probe whose stream is gone.
   */
  probe(options: Partial<ProbeOptions>, onProgress?: (p: ProbeProgress) => void, signal?: AbortSignal): Promise<ProbeReport>;
  recipeFromRequest(request: StepRequest, name: string): Promise<string>;
  faults(): Promise<FaultEntry[]>;
  /** Sets a fault: any members of `Fault` (the rest off). */
  setFault(workspace: string, endpoint: FaultEndpoint, fault: Partial<Fault>): Promise<FaultEntry[]>;
  /** Clears the faults of one workspace and endpoint, one workspace, or (no arguments) all. */
  clearFaults(workspace?: string | null, endpoint?: FaultEndpoint | null): Promise<Cleared>;
}

// ---------------------------------------------------------------------------------------------
// Pure pieces (tested in test/api.test.ts).

/** Where the control API lives, relative to the page's origin. */
export const API_PREFIX = "/_stepmint/v1";

/**
 * One path segment percent-encoded as the Rust side's `paths::segment` does: everything but
 * `A-Z a-z 0-9 - . _ ~` becomes `%XX` (UTF-8), and `.` or `..` alone are encoded too, so a slug
 * or kid can never add a step, a query or a fragment.
 */
export function segment(text: string): string {
  if (text === "." || text === "..") return text.replace(/\./g, "%2E");
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

type QueryValues = Record<string, string | number | boolean | null | undefined>;

function queryText(query: QueryValues): string {
  const q = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return q.length ? `?${q.join("&")}` : "";
}

/** A control call's name in the call table (src/http/calls.rs, generated into `CALLS`). */
export type CallName = keyof Wire.Calls;

/**
 * Call `name`'s URL: its path's `{params}` filled in order (each encoded, so a slug or kid
 * cannot reach another route), then its query. Throws when the parameters do not fit the path.
 */
export function callUrl<K extends CallName>(name: K, params: string[] = [], query: Partial<Wire.Calls[K]["query"]> = {}): string {
  let used = 0;
  const path = CALLS[name].path.replace(/\{[^}]+\}/g, () => {
    const p = params[used++];
    if (p === undefined) throw new Error(`${name}: ${CALLS[name].path} needs ${used} parameter(s)`);
    return segment(p);
  });
  if (used !== params.length) throw new Error(`${name}: ${CALLS[name].path} takes ${used} parameter(s), not ${params.length}`);
  return `${API_PREFIX}${path}${queryText(query as QueryValues)}`;
}

/** One server-sent event. */
export interface SseEvent { event: string; data: string; id?: string }

/**
 * Splits a server-sent event stream's text into its complete events and the unfinished rest (to
 * be prefixed to the next chunk). Lines end in LF, CRLF or CR; `data:` lines join with LF;
 * comments (`:`) and events without data are skipped; the event name defaults to "message".
 */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  // A CR at the very end may be half of a CRLF split across chunks: keep it for the next one.
  const held = text.endsWith("\r") ? "\r" : "";
  const body = (held ? text.slice(0, -1) : text).replace(/\r\n?/g, "\n");
  const blocks = body.split("\n\n");
  const rest = blocks.pop() ?? "";
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value || "message";
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (data.length) events.push(id === undefined ? { event, data: data.join("\n") } : { event, data: data.join("\n"), id });
  }
  return { events, rest: rest + held };
}

/**
 * A failed answer as a readable message: the JSON error's `message`, prefixed with its `field`
 * when it names one; else the status and the start of the body.
 */
export function errorMessage(status: number, body: string, statusText = ""): string {
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const text = typeof o.message === "string" && o.message ? o.message : typeof o.error === "string" ? o.error : "";
      if (text) return typeof o.field === "string" && o.field ? `${o.field}: ${text}` : text;
    }
  } catch {
    // not JSON: described below
  }
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  const hint = status === 401 ? " (open the console link `stepmint serve` printed, with its #token=…)" : "";
  const snippet = body.trim().slice(0, 200);
  return `${head}${hint}${snippet ? `: ${snippet}` : ""}`;
}

/**
 * The console's one-time token in a page fragment (`#token=XYZ`, possibly among other
 * `&`-separated members), and the fragment without it ("" when nothing else is left).
 */
export function tokenFromHash(hash: string): { token: string | null; hash: string } {
  const members = hash.replace(/^#/, "").split("&").filter((m) => m !== "");
  let token: string | null = null;
  const kept: string[] = [];
  for (const m of members) {
    if (m.startsWith("token=")) {
      try {
        token = decodeURIComponent(m.slice("token=".length)) || null;
      } catch {
        token = m.slice("token=".length) || null;
      }
    } else kept.push(m);
  }
  return { token, hash: kept.length ? `#${kept.join("&")}` : "" };
}

/** Reads SSE events off a byte stream, calling `fn` with each until the stream ends. */
export async function readSse(body: ReadableStream<Uint8Array>, fn: (e: SseEvent) => void, signal?: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const parsed = parseSse(buffer + decoder.decode(value, { stream: true }));
      buffer = parsed.rest;
      for (const e of parsed.events) fn(e);
    }
    // A last event without its blank line still counts.
    const tail = parseSse(`${buffer}${decoder.decode()}\n\n`);
    for (const e of tail.events) fn(e);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

// ---------------------------------------------------------------------------------------------
// The console's token.

const TOKEN_KEY = "stepmint-console-token";
let tokenRead = false;
let consoleToken: string | null = null;

/**
 * Takes the one-time token off the address (`#token=…`, as `stepmint serve` prints the console
 * link), keeps it in sessionStorage for reloads, and removes the fragment from the address bar.
 * Safe to call more than once and outside a browser.
 */
export function initAuth(): void {
  if (tokenRead) return;
  tokenRead = true;
  if (typeof window === "undefined") return;
  try {
    const { token, hash } = tokenFromHash(window.location.hash);
    if (token) {
      consoleToken = token;
      window.sessionStorage?.setItem(TOKEN_KEY, token);
      window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}${hash}`);
    } else {
      consoleToken = window.sessionStorage?.getItem(TOKEN_KEY) ?? null;
    }
  } catch {
    // Storage refused (a sandboxed page): the token lives for this page only.
  }
}

function authToken(): string | null {
  initAuth();
  return consoleToken;
}

// ---------------------------------------------------------------------------------------------
// The transports.

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
type Listen = <T>(event: string, fn: (e: { payload: T }) => void) => Promise<() => void>;

const notInConsole = (what: string) => Promise.reject(new Error(`${what} is not available in the web console: restart \`stepmint serve\` to change its settings`));

/** The desktop app's transport: Tauri commands. */
export function tauriApi(call: Invoke, on: Listen): Api {
  return {
    status: () => call<Status>("status"),
    start: (bind, port) => call<Status>("start", { bind, port }),
    stop: () => call<Status>("stop"),
    restart: (bind, port) => call<Status>("restart", { bind, port }),
    addWorkspace: (workspace) => call<Status>("add_workspace", { workspace }),
    removeWorkspace: (slug) => call<Status>("remove_workspace", { slug }),
    keys: (workspace) => call<KeyInfo[]>("keys", { workspace }),
    rotateKey: (workspace, overlap) => call<KeyInfo[]>("rotate_key", { workspace, overlap: overlap ?? undefined }),
    addKey: (workspace, alg, o = {}) => call<KeyInfo[]>("add_key", { workspace, alg, staged: o.staged ?? false, publishIn: o.publishIn ?? undefined }),
    retireKey: (workspace, kid) => call<KeyInfo[]>("retire_key", { workspace, kid }),
    trustLines: () => call<string>("trust_lines"),
    saveCa: (path) => call<string>("save_ca", { path }),
    caPem: () => Promise.reject(new Error("the app saves the CA with save_ca")),
    cases: () => call<CaseSummary[]>("cases"),
    mint: (request) => call<Minted>("mint", { request }),
    inspect: (token, workspace, policy) => call<Inspection>("inspect", { token, workspace, policy }),
    policyCheck: (request) => call<PolicyCheckReport>("policy_check", { request }),
    requests: (since) => call<Wire.RequestsPage>("requests", { since }),
    watchRequests: () => () => {},
    history: () => call<HistoryEntry[]>("history"),
    clearHistory: () => call<void>("clear_history"),
    probe: async (options, onProgress) => {
      let unlisten: () => void = () => {};
      if (onProgress) {
        try {
          // Listening before the run starts, so its first events are not missed.
          const off = await on<ProbeProgress>("probe-progress", (e) => onProgress(e.payload));
          // The Rust side's answer to dropping the handler is of no use, and a refusal must not
          // surface as an unhandled rejection.
          unlisten = () => void Promise.resolve(off()).catch(() => {});
        } catch {
          // No live progress (events not allowed): the run still reports when it ends.
        }
      }
      try {
        return await call<ProbeReport>("probe", { options });
      } finally {
        unlisten();
      }
    },
    recipeFromRequest: (request, name) => call<string>("recipe_from_request", { request, name }),
    faults: async () => (await call<Wire.FaultList>("faults")).faults,
    setFault: async (workspace, endpoint, fault) => (await call<Wire.FaultList>("fault_set", { workspace, endpoint, fault })).faults,
    clearFaults: (workspace, endpoint) => call<Cleared>("fault_clear", { workspace: workspace ?? null, endpoint: endpoint ?? null }),
  };
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** The web console's transport: the control API over fetch, relative to the page's origin. */
export function httpApi(fetchFn: Fetch, token: () => string | null = () => null, pollMs = 1000): Api {
  const send = async (method: string, url: string, body?: unknown, accept = "application/json", signal?: AbortSignal): Promise<Response> => {
    const headers: Record<string, string> = { Accept: accept };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetchFn(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new Error(`cannot reach the issuer (${message(e)})`);
    }
    if (!res.ok) throw new Error(errorMessage(res.status, await res.text().catch(() => ""), res.statusText));
    return res;
  };
  const json = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const text = await (await send(method, url, body)).text();
    if (text.trim() === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${url}: the answer is not JSON`);
    }
  };
  /** Call `name` of the call table: its method and path from `CALLS`, its reply typed by it. */
  const call = <K extends CallName>(name: K, params: string[] = [], body?: Wire.Calls[K]["body"], query?: Partial<Wire.Calls[K]["query"]>) =>
    json<Wire.Calls[K]["reply"]>(CALLS[name].method, callUrl(name, params, query), body);
  const keys = async (slug: string) => (await call("keys", [slug])).keys;
  const requests = (since: number) => call("requests", [], undefined, { since });

  return {
    status: () => call("status"),
    start: () => notInConsole("Start"),
    stop: () => notInConsole("Stop"),
    restart: () => notInConsole("Restart"),
    addWorkspace: () => notInConsole("Adding a workspace"),
    removeWorkspace: () => notInConsole("Removing a workspace"),
    keys,
    rotateKey: async (slug, overlap) => {
      await call("rotateKey", [slug], { overlap: overlap ?? null });
      return keys(slug);
    },
    addKey: async (slug, alg, o = {}) => {
      // The screen passes the select's text; the server refuses an algorithm it does not know.
      await call("addKey", [slug], { alg: alg as Wire.KeyAlg, staged: o.staged ?? false, publish_in: o.publishIn ?? null });
      return keys(slug);
    },
    retireKey: async (slug, kid) => {
      await call("retireKey", [slug, kid]);
      return keys(slug);
    },
    trustLines: async () => (await call("trust")).lines,
    saveCa: () => notInConsole("Saving the CA to a path"),
    caPem: async () => (await send(CALLS.caPem.method, callUrl("caPem"), undefined, "application/x-pem-file, text/plain")).text(),
    cases: async () => (await call("cases")).cases,
    mint: (request) => call("mint", [], request as Wire.StepRequest, { history: true }),
    inspect: (tok, workspace, policy) => call("inspect", [], { token: tok, workspace: workspace ?? null, policy: (policy ?? null) as Wire.PolicyOverrides | null }),
    policyCheck: (request) => call("policyCheck", [], request),
    requests,
    watchRequests: (since, onRecords) => {
      let last = since;
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const abort = new AbortController();
      // Records reach the screen once and in order, whichever way they came.
      const deliver = (recs: RequestRecord[]) => {
        const fresh = recs.filter((r) => r.id > last && r.endpoint !== "control");
        last = Math.max(last, ...recs.map((r) => r.id));
        if (fresh.length && !stopped) onRecords(fresh);
      };
      const poll = async () => {
        if (stopped) return;
        try {
          const r = await requests(last);
          // A restarted server counts from 1 again.
          if (r.next < last) last = 0;
          deliver(r.requests);
        } catch {
          // The server is away; keep trying.
        }
        if (!stopped) timer = setTimeout(poll, pollMs);
      };
      void (async () => {
        // While the log is fetched (at the start, and after the server skipped records for a slow
        // reader), streamed records are held, so none is lost, repeated or reordered.
        let held: RequestRecord[] | null = null;
        let lagged = false;
        let catching: Promise<void> = Promise.resolve();
        const catchUp = () => {
          if (held) {
            // Skipped while catching up: fetch once more before the held records go out.
            lagged = true;
            return;
          }
          held = [];
          catching = (async () => {
            do {
              lagged = false;
              try {
                deliver((await requests(last)).requests);
              } catch {
                // the held records still go out below
              }
            } while (lagged && !stopped);
            const h = held ?? [];
            held = null;
            deliver(h);
          })();
        };
        try {
          const res = await send(CALLS.requestStream.method, callUrl("requestStream"), undefined, "text/event-stream", abort.signal);
          if (!res.body) throw new Error("no stream");
          catchUp();
          await readSse(
            res.body,
            (e) => {
              if (e.event === "lagged") catchUp();
              if (e.event !== "message" && e.event !== "request") return;
              let rec: RequestRecord;
              try {
                rec = JSON.parse(e.data) as RequestRecord;
              } catch {
                return;
              }
              if (held) held.push(rec);
              else deliver([rec]);
            },
            abort.signal,
          );
          await catching;
        } catch {
          // No stream (or it broke): poll below.
        }
        if (!stopped) void poll();
      })();
      return () => {
        stopped = true;
        abort.abort();
        if (timer !== undefined) clearTimeout(timer);
      };
    },
    history: async () => (await call("history")).history,
    clearHistory: async () => {
      await call("clearHistory");
    },
    probe: async (options, onProgress, signal) => {
      const res = await send(CALLS.probe.method, callUrl("probe"), options, "text/event-stream", signal);
      // A server may answer the report as plain JSON.
      if ((res.headers.get("content-type") ?? "").includes("application/json")) return (await res.json()) as ProbeReport;
      if (!res.body) throw new Error("the probe answered no stream");
      let report: ProbeReport | null = null;
      let failure: string | null = null;
      await readSse(res.body, (e) => {
        if (e.event === "progress") {
          try {
            onProgress?.(JSON.parse(e.data) as ProbeProgress);
          } catch {
            // a progress line we cannot read is only a missed update
          }
        } else if (e.event === "report") {
          report = JSON.parse(e.data) as ProbeReport;
        } else if (e.event === "error") {
          failure = errorMessage(500, e.data);
        }
      }, signal);
      if (signal?.aborted) throw new Error("probe cancelled");
      if (failure !== null) throw new Error(failure);
      if (report === null) throw new Error("the probe's stream ended without a report");
      return report;
    },
    recipeFromRequest: async (request, name) => (await call("recipe", [], { request: request as Wire.StepRequest, name })).toml,
    faults: async () => (await call("faults")).faults,
    setFault: async (slug, endpoint, fault) => (await call("setFault", [slug, endpoint], fault as Wire.Fault)).faults,
    clearFaults: (slug, endpoint) => {
      if (endpoint && !slug) return Promise.reject(new Error("clearing one endpoint's faults needs its workspace"));
      if (slug && endpoint) return call("clearFault", [slug, endpoint]);
      if (slug) return call("clearWorkspaceFaults", [slug]);
      return call("clearAllFaults");
    },
  };
}

/** Whether this page runs in a plain browser (the web console), not in the desktop app. */
export function isBrowser(): boolean {
  return !(typeof window !== "undefined" && "__TAURI_INTERNALS__" in window);
}

/** The transport, chosen once: Tauri inside the app, the control API over fetch in a browser. */
export const api: Api = isBrowser()
  ? httpApi((url, init) => fetch(url, init), authToken)
  : tauriApi((cmd, args) => invoke(cmd, args), (event, fn) => listen(event, fn));

/**
 * Calls `fn` with each `probe-progress` event until the returned function is called (the app's
 * events; in the console progress comes with `api.probe`'s own stream, so this listens to nothing).
 */
export async function onProbeProgress(fn: (p: ProbeProgress) => void): Promise<() => void> {
  if (isBrowser()) return () => {};
  const unlisten = await listen<ProbeProgress>("probe-progress", (e) => fn(e.payload));
  return () => void Promise.resolve(unlisten()).catch(() => {});
}

/** A rejected call's value as a readable message. */
export function message(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return JSON.stringify(e);
}
