// Faults: make a workspace's discovery document or JWKS misbehave on purpose (latency, error
// statuses, broken bodies, bad caching headers, empty or ambiguous key sets), see the active
// faults and clear them; and drive the key lifecycle (rotate, add, retire) a relying party must
// survive. Works the same in the app and in the web console.
import { api, message, type EtagMode, type Fault, type FaultEndpoint, type FaultEntry, type KeyInfo, type RequestRecord } from "../api";
import { byId, h, td, toast, type Cell } from "../lib/dom";
import { isoDate } from "../lib/time";
import { onShow } from "../nav";
import { onStatus, refresh } from "../state";

/** The fault form's fields as typed. */
export interface FaultForm {
  endpoint: FaultEndpoint; latency: string; status: string; retryAfter: string; failNext: string;
  reset: boolean; hang: boolean; truncate: boolean; nonJson: boolean; emptyJwks: boolean; duplicateKid: boolean;
  contentType: string; cacheControl: string; etag: "" | EtagMode;
}

/** A blank form: no fault at all. */
export const blankFaultForm: FaultForm = {
  endpoint: "jwks", latency: "", status: "", retryAfter: "", failNext: "",
  reset: false, hang: false, truncate: false, nonJson: false, emptyJwks: false, duplicateKid: false,
  contentType: "", cacheControl: "", etag: "",
};

const MAX_LATENCY_MS = 600_000;

/** A whole number field (blank: null); throws a readable error otherwise. */
function whole(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new Error(`${what}: "${t}" is not a whole number`);
  const n = Number(t);
  if (n < min || n > max) throw new Error(`${what}: ${n} is out of range (${min} to ${max})`);
  return n;
}

/** Latency as typed: "200" is a fixed 200 ms, "200-800" (or "200..800", "200,800") a uniform range. */
export function parseLatency(text: string): number[] | null {
  const t = text.trim().replace(/\s*ms$/i, "");
  if (t === "") return null;
  const m = /^(\d+)\s*(?:-|\.\.|,|–)\s*(\d+)$/.exec(t);
  const parts = m ? [m[1], m[2]] : [t];
  const values = parts.map((p) => whole(p, "latency", 0, MAX_LATENCY_MS) as number);
  if (values.some((v) => v === null)) throw new Error(`latency: "${text.trim()}" is not milliseconds, or a range like 200-800`);
  if (values.length === 2 && values[0] > values[1]) throw new Error(`latency: the range ${values[0]}-${values[1]} goes backwards (min-max)`);
  return values;
}

function headerValue(text: string, what: string): string | null {
  const t = text.trim();
  if (t === "") return null;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(t)) throw new Error(`${what}: not a valid header value (control characters)`);
  return t;
}

/**
 * The fault the form describes, as the control API and the `fault_set` command take it; throws a
 * readable error for an empty form, a bad number, or settings that exclude each other.
 */
export function faultFromForm(f: FaultForm): Partial<Fault> {
  const fault: Partial<Fault> = {};
  const latency = parseLatency(f.latency);
  if (latency) fault.latency_ms = latency;
  const status = whole(f.status, "status");
  if (status !== null) {
    if (status < 400 || status > 599) throw new Error(`status: ${status} is not a 4xx or 5xx status`);
    fault.status = status;
  }
  const retryAfter = whole(f.retryAfter, "retry-after");
  const failNext = whole(f.failNext, "fail next");
  if (failNext !== null) {
    if (failNext < 1) throw new Error("fail next: must be at least 1 request");
    fault.fail_next = failNext;
  }
  if (retryAfter !== null) {
    if (status === null && failNext === null) throw new Error("retry-after goes with a status (or fail next): set one");
    fault.retry_after = retryAfter;
  }
  const endings = (["reset", "hang", "truncate"] as const).filter((k) => f[k]);
  if (endings.length > 1) throw new Error(`${endings.join(" and ")} exclude each other: a response ends one way`);
  for (const k of endings) fault[k] = true;
  if (f.nonJson) fault.non_json = true;
  const contentType = headerValue(f.contentType, "content-type");
  if (contentType) fault.content_type = contentType;
  const cacheControl = headerValue(f.cacheControl, "cache-control");
  if (cacheControl) fault.cache_control = cacheControl;
  if (f.etag) fault.etag = f.etag;
  if (f.emptyJwks || f.duplicateKid) {
    if (f.endpoint !== "jwks") throw new Error(`${f.emptyJwks ? "empty JWKS" : "duplicate kid"} applies to the JWKS only: choose the jwks endpoint`);
    if (f.emptyJwks) fault.empty_jwks = true;
    if (f.duplicateKid) fault.duplicate_kid = true;
  }
  if (Object.keys(fault).length === 0) {
    throw new Error("nothing to inject: set a latency, a status, fail next, an ending (reset, hang, truncate), non-JSON, a header or a JWKS change");
  }
  return fault;
}

/** A fault in a few words, for the table: "503, retry-after 5 s, 200-800 ms, truncate". */
export function faultSummary(f: Partial<Fault>): string {
  const parts: string[] = [];
  if (f.fail_next !== undefined) parts.push(`fail next ${f.fail_next} with ${f.status ?? 503}`);
  else if (f.status !== undefined) parts.push(`status ${f.status}`);
  if (f.retry_after !== undefined) parts.push(`retry-after ${f.retry_after} s`);
  if (f.latency_ms?.length) parts.push(`latency ${f.latency_ms.join("-")} ms`);
  for (const [k, label] of [["reset", "reset"], ["hang", "hang"], ["truncate", "truncate"], ["non_json", "non-JSON"], ["empty_jwks", "empty JWKS"], ["duplicate_kid", "duplicate kid"]] as const) {
    if (f[k]) parts.push(label);
  }
  if (f.content_type) parts.push(`content-type ${f.content_type}`);
  if (f.cache_control) parts.push(`cache-control ${f.cache_control}`);
  if (f.etag) parts.push(`ETag ${f.etag}`);
  return parts.join(", ") || "(none)";
}

/** An active fault's cells in column order (the Clear button follows). */
export function faultCells(e: FaultEntry): Cell[] {
  return [
    { text: e.workspace },
    { text: e.endpoint },
    { text: faultSummary(e.fault), class: "mono" },
    { text: e.remaining === undefined || e.remaining === null ? "" : `${e.remaining} left` },
  ];
}

/** Whether a key can be retired: every key but the one that signs. */
export function retirable(k: KeyInfo): boolean {
  return k.state !== "active";
}

/** A key's state in words, with its date when it has one. */
export function keyStateText(k: KeyInfo): string {
  if (k.state === "retiring") return `${k.state} until ${isoDate(k.until)}`;
  if (k.state === "staged" && k.publish_at) return `${k.state}, published at ${isoDate(k.publish_at)}`;
  return k.state;
}

/** The whole seconds in a field, null when blank; throws a readable error otherwise. */
export function seconds(text: string, what: string): number | null {
  return whole(text, what);
}

/** A scenario step as the server logged it (`serve --scenario FILE`). */
export interface ScenarioLine { time: string; workspace: string; what: string }

/** The scenario steps among log records: the server's own `EVENT` records that a scenario wrote. */
export function scenarioLines(records: RequestRecord[]): ScenarioLine[] {
  return records
    .filter((r) => r.method === "EVENT" && r.path.startsWith("scenario"))
    .map((r) => ({ time: r.time, workspace: r.workspace ?? "", what: r.path }));
}

// The log is read from where the last look stopped, a few pages at a time, so a busy server
// costs the screen little; the newest steps are kept.
let scenarioSince = 0;
const scenarioSeen: ScenarioLine[] = [];

async function refreshScenario(): Promise<void> {
  for (let page = 0; page < 4; page++) {
    const r = await api.requests(scenarioSince);
    scenarioSeen.push(...scenarioLines(r.requests));
    scenarioSince = r.next;
    if (r.requests.length < 500) break;
  }
  scenarioSeen.splice(0, Math.max(0, scenarioSeen.length - 20));
  byId("flt-scenario").replaceChildren(
    ...(scenarioSeen.length
      ? scenarioSeen.map((l) => h("li", {}, h("span", { class: "mono muted", text: `${l.time} ` }), `${l.workspace}: ${l.what}`))
      : [h("li", { class: "muted", text: "no scenario step yet (serve --scenario FILE runs one)" })]),
  );
}

function currentWorkspace(): string {
  return byId<HTMLSelectElement>("flt-workspace").value;
}

function renderFaultTable(list: FaultEntry[]): void {
  byId("flt-table").querySelector("tbody")?.replaceChildren(
    ...(list.length
      ? list.map((e) =>
          h(
            "tr",
            { "data-workspace": e.workspace, "data-endpoint": e.endpoint },
            ...faultCells(e).map(td),
            h("td", {}, h("button", { class: "clear-fault", onclick: () => act(() => api.clearFaults(e.workspace, e.endpoint as FaultEndpoint), `cleared the ${e.endpoint} fault of ${e.workspace}`) }, "Clear")),
          ),
        )
      : [h("tr", { class: "empty" }, h("td", { colspan: 5, class: "muted", text: "no active fault: the endpoints answer normally" }))]),
  );
  byId("flt-count").textContent = String(list.length);
}

function renderKeys(keys: KeyInfo[]): void {
  byId("flt-keys").querySelector("tbody")?.replaceChildren(
    ...keys.map((k) =>
      h(
        "tr",
        { "data-kid": k.kid, "data-state": k.state },
        h("td", { class: "mono", text: k.kid }),
        h("td", { text: k.alg }),
        h("td", { text: keyStateText(k) }),
        h("td", { text: k.published ? "yes" : "no" }),
        h("td", {}, retirable(k) ? h("button", { class: "retire-key", onclick: () => keyAction(() => api.retireKey(currentWorkspace(), k.kid), `retired ${k.kid}`) }, "Retire") : h("span", { class: "muted", text: "signs tokens" })),
      ),
    ),
  );
}

/** Reloads the active faults and the chosen workspace's keys; `quiet` keeps a failure off the toast. */
export async function refreshFaults(quiet = false): Promise<void> {
  try {
    renderFaultTable(await api.faults());
    const ws = currentWorkspace();
    if (ws) renderKeys(await api.keys(ws));
    await refreshScenario();
  } catch (e) {
    if (!quiet) toast(message(e), true);
  }
}

async function act(fn: () => Promise<unknown>, done: string): Promise<void> {
  try {
    await fn();
    toast(done);
  } catch (e) {
    toast(message(e), true);
  }
  await refreshFaults();
}

async function keyAction(fn: () => Promise<KeyInfo[]>, done: string): Promise<void> {
  try {
    renderKeys(await fn());
    toast(done);
    // The Issuer screen shows the keys too.
    await refresh();
  } catch (e) {
    toast(message(e), true);
    await refreshFaults();
  }
}

export function renderFaults(root: HTMLElement): void {
  const workspace = h("select", { id: "flt-workspace", "aria-label": "Workspace" });
  const endpoint = h("select", { id: "flt-endpoint", "aria-label": "Endpoint" }, h("option", { value: "jwks", text: "JWKS (keys.json)" }), h("option", { value: "discovery", text: "discovery document" }));
  const latency = h("input", { id: "flt-latency", placeholder: "200 or 200-800", size: 12 });
  const status = h("input", { id: "flt-status", type: "number", min: 400, max: 599, placeholder: "503", size: 6 });
  const retryAfter = h("input", { id: "flt-retry-after", type: "number", min: 0, placeholder: "s", size: 6 });
  const failNext = h("input", { id: "flt-fail-next", type: "number", min: 1, placeholder: "all", size: 6 });
  const check = (id: string) => h("input", { id, type: "checkbox" });
  const reset = check("flt-reset");
  const hang = check("flt-hang");
  const truncate = check("flt-truncate");
  const nonJson = check("flt-non-json");
  const emptyJwks = check("flt-empty-jwks");
  const duplicateKid = check("flt-duplicate-kid");
  const contentType = h("input", { id: "flt-content-type", placeholder: "text/html", size: 18 });
  const cacheControl = h("input", { id: "flt-cache-control", placeholder: "no-store or max-age=31536000", size: 24 });
  const etag = h("select", { id: "flt-etag", "aria-label": "ETag" }, h("option", { value: "", text: "normal" }), h("option", { value: "never-changes", text: "never changes" }), h("option", { value: "always-changes", text: "always changes" }));
  const overlap = h("input", { id: "flt-overlap", type: "number", min: 0, placeholder: "lifetime", size: 10, title: "Seconds the old key stays in the JWKS (blank: the token lifetime)" });
  const alg = h("select", { id: "flt-alg", "aria-label": "Algorithm" }, ...["RS256", "ES256", "EdDSA"].map((a) => h("option", { value: a, text: a })));
  const staged = check("flt-staged");
  const publishIn = h("input", { id: "flt-publish-in", type: "number", min: 0, placeholder: "never", size: 8 });
  const table = h("table", { id: "flt-table" }, h("thead", {}, h("tr", {}, ...["workspace", "endpoint", "fault", "remaining", ""].map((t) => h("th", { text: t })))), h("tbody"));
  const keys = h("table", { id: "flt-keys" }, h("thead", {}, h("tr", {}, ...["kid", "alg", "state", "published", ""].map((t) => h("th", { text: t })))), h("tbody"));

  const form = (): FaultForm => ({
    endpoint: endpoint.value as FaultEndpoint,
    latency: latency.value, status: status.value, retryAfter: retryAfter.value, failNext: failNext.value,
    reset: reset.checked, hang: hang.checked, truncate: truncate.checked, nonJson: nonJson.checked,
    emptyJwks: emptyJwks.checked, duplicateKid: duplicateKid.checked,
    contentType: contentType.value, cacheControl: cacheControl.value, etag: etag.value as FaultForm["etag"],
  });
  const setFault = () => {
    let fault: Partial<Fault>;
    try {
      fault = faultFromForm(form());
    } catch (e) {
      toast(message(e), true);
      return;
    }
    const ws = workspace.value;
    void act(() => api.setFault(ws, endpoint.value as FaultEndpoint, fault), `${endpoint.value} of ${ws}: ${faultSummary(fault)}`);
  };
  const rotate = () => {
    let s: number | null;
    try {
      s = seconds(overlap.value, "overlap");
    } catch (e) {
      toast(message(e), true);
      return;
    }
    void keyAction(() => api.rotateKey(workspace.value, s), `rotated ${workspace.value}'s signing key`);
  };
  const addKey = () => {
    let s: number | null;
    try {
      s = seconds(publishIn.value, "publish in");
      if (s !== null && !staged.checked) throw new Error("publish in: only a staged key is published later; tick staged");
    } catch (e) {
      toast(message(e), true);
      return;
    }
    void keyAction(() => api.addKey(workspace.value, alg.value, { staged: staged.checked, publishIn: s }), `${staged.checked ? "staged" : "published"} a new ${alg.value} key`);
  };

  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Inject a fault" }),
        h("div", { class: "row" }, h("label", {}, "Workspace", workspace), h("label", {}, "Endpoint", endpoint)),
        h("div", { class: "row" }, h("label", {}, "Latency (ms)", latency), h("label", {}, "Status (4xx/5xx)", status), h("label", {}, "Retry-After (s)", retryAfter), h("label", {}, "Fail next N", failNext)),
        h("div", { class: "row" }, h("label", { class: "check" }, reset, "reset"), h("label", { class: "check" }, hang, "hang"), h("label", { class: "check" }, truncate, "truncate"), h("label", { class: "check" }, nonJson, "non-JSON body")),
        h("div", { class: "row" }, h("label", { class: "check" }, emptyJwks, "empty JWKS"), h("label", { class: "check" }, duplicateKid, "duplicate kid")),
        h("div", { class: "row" }, h("label", {}, "Content-Type", contentType), h("label", {}, "Cache-Control", cacheControl), h("label", {}, "ETag", etag)),
        h("div", { class: "row" }, h("button", { id: "btn-fault-set", class: "primary", onclick: setFault }, "Set fault")),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Key lifecycle" }),
        h("div", { class: "row bottom" }, h("label", {}, "Old key overlap (s)", overlap), h("button", { id: "btn-key-rotate", onclick: rotate }, "Rotate")),
        h("div", { class: "row bottom" }, h("label", {}, "Algorithm", alg), h("label", {}, "Publish in (s)", publishIn), h("label", { class: "check" }, staged, "staged"), h("button", { id: "btn-key-add", onclick: addKey }, "Add key")),
        keys,
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h("h2", {}, "Active faults ", h("span", { id: "flt-count", class: "muted", text: "0" })),
      table,
      h("div", { class: "row" }, h("button", { id: "btn-fault-clear-all", onclick: () => act(() => api.clearFaults(), "cleared every fault") }, "Clear all"), h("button", { id: "btn-fault-refresh", onclick: () => void refreshFaults() }, "Refresh")),
    ),
    h("div", { class: "panel" }, h("h2", { text: "Scenario" }), h("ul", { id: "flt-scenario", class: "plain" })),
  );
  workspace.addEventListener("change", () => void refreshFaults());
  onStatus((s) => {
    const current = workspace.value;
    const slugs = (s.server?.workspaces ?? []).map((w) => w.slug);
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug })));
    if (slugs.includes(current)) workspace.value = current;
    if (!root.hidden) void refreshFaults();
  });
  onShow("faults", () => void refreshFaults());
  // A `fail next` counts down as relying parties call: keep the table current while it shows.
  window.setInterval(() => {
    if (!root.hidden) void refreshFaults(true);
  }, 3000);
}
