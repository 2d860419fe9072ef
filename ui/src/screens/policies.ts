// Policies: paste or load a relying party's trust policy (AWS role trust policy, Vault/OpenBao
// JWT role, GCP provider, Azure federated credential) with a bitbucket-pipelines.yml (the
// example one until replaced) and see what `stepmint policy check` says: which steps get in
// (green) or not (red), which neighbouring tokens get in, and the findings with their fixes.
// A policy the engine cannot read is shown under the text area with the statement and line the
// core names, and that line is selected.
import { api, message, type PolicyCheckReport, type PolicyCheckRequest, type PolicyFinding } from "../api";
import { byId, h, td, type Cell } from "../lib/dom";
import { EXAMPLE_PIPELINES, EXAMPLE_POLICIES } from "../lib/examples";
import { onStatus } from "../state";

/** The kinds the check knows; blank: detected from the document. */
export const KINDS = ["", "aws", "vault", "gcp", "azure"] as const;

/** The request the form describes; throws a readable error on an empty policy or an unknown kind. */
export function checkRequest(policy: string, kind: string, pipelines: string, workspace: string): PolicyCheckRequest {
  if (policy.trim() === "") throw new Error("policy: paste or load a policy first");
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`kind: unknown kind "${kind}" (aws, vault, gcp or azure)`);
  return {
    policy,
    kind: kind || null,
    pipelines: pipelines.trim() === "" ? null : pipelines,
    workspace: workspace || null,
  };
}

/** An allowed/denied cell: green when it gets in, red when not, red and marked when it gets in but should not. */
export function allowedCell(allowed: boolean, unexpected: boolean): Cell {
  if (allowed && unexpected) return { text: "ALLOWED (should not)", class: "access-unexpected" };
  return allowed ? { text: "allowed", class: "access-allowed" } : { text: "denied", class: "access-denied" };
}

/** A table row as data: its cells, its class and the key the page marks it with. */
export interface Row { key: string; class: string; cells: Cell[] }

/** The access table's rows: step, branch, environment, the allowed cell (green/red), why. */
export function accessRows(r: PolicyCheckReport): Row[] {
  return r.access.map((a) => ({
    key: a.step,
    class: a.unexpected ? "denied unexpected" : a.allowed ? "allowed" : "denied",
    cells: [
      { text: a.step },
      { text: a.branch ?? "(any)", class: a.branch ? undefined : "muted" },
      { text: a.environment ?? "-", class: a.environment ? undefined : "muted" },
      allowedCell(a.allowed, a.unexpected),
      { text: a.reason },
    ],
  }));
}

/**
 * Every boundary token, those that get in highlighted: the ones meant to be kept out first, then
 * the others that get in, then the refused.
 */
export function boundaryRows(r: PolicyCheckReport): Row[] {
  const rank = (b: { allowed: boolean; unexpected: boolean }) => (b.unexpected ? 0 : b.allowed ? 1 : 2);
  return [...r.boundary]
    .sort((a, b) => rank(a) - rank(b))
    .map((b) => ({
      key: b.token,
      class: b.unexpected ? "gets-in unexpected" : b.allowed ? "gets-in" : "kept-out",
      cells: [
        { text: b.token },
        { text: b.change },
        allowedCell(b.allowed, b.unexpected),
        { text: b.expected === null ? "-" : b.expected ? "yes" : "no", class: b.expected === null ? "muted" : undefined },
        { text: b.why },
      ],
    }));
}

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

/** Findings most severe first, then by line, then by id (stable for equal keys). */
export function sortedFindings(fs: PolicyFinding[]): PolicyFinding[] {
  return [...fs].sort(
    (a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || (a.line ?? Infinity) - (b.line ?? Infinity) || a.id.localeCompare(b.id),
  );
}

/** A finding as shown: its heading (severity and id), where, what is wrong, the fix. */
export function findingView(f: PolicyFinding): { class: string; head: string; where: string | null; message: string; fix: string } {
  const parts = [f.at, f.line ? `line ${f.line}` : null].filter((p): p is string => !!p);
  const where = parts.length ? parts.join(", ") : null;
  return { class: `finding ${f.severity}`, head: `${f.severity} ${f.id}`, where, message: f.message, fix: `Fix: ${f.fix}` };
}

/** The verdict line. */
export function verdictLine(r: PolicyCheckReport, detected: boolean): { text: string; class: string } {
  const allowed = r.access.filter((a) => a.allowed).length;
  const leaks = r.boundary.filter((b) => b.unexpected).length;
  const errors = r.findings.filter((f) => f.severity === "error").length;
  const kind = detected ? `${r.kind} (detected)` : r.kind;
  const steps = r.access.length ? `${allowed} of ${r.access.length} steps get in` : "no steps (no pipelines file)";
  const counts = `${kind}: ${steps}, ${leaks} boundary token(s) get in that should not, ${errors} error finding(s)`;
  return r.failed ? { text: `FAIL: ${counts}`, class: "verdict fail" } : { text: `PASS: ${counts}`, class: "verdict pass" };
}

/**
 * The line a core error points at: the last `line N` it names (a statement's own line comes
 * before the line of the member at fault), or null.
 */
export function errorLine(text: string): number | null {
  const all = [...text.matchAll(/\bline (\d+)/g)];
  const n = all.length ? Number(all[all.length - 1][1]) : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** Where 1-based `line` starts and ends in `text` (clamped to the last line), for a selection. */
export function lineSpan(text: string, line: number): [number, number] {
  const lines = text.split("\n");
  const at = Math.min(Math.max(line, 1), lines.length) - 1;
  const start = lines.slice(0, at).reduce((n, l) => n + l.length + 1, 0);
  return [start, start + lines[at].length];
}

/** Which text area an error is about: a message starting `pipelines` is the pipelines file's. */
export function errorTarget(text: string): "pol-text" | "pol-pipelines" {
  return /^pipelines\b/.test(text) ? "pol-pipelines" : "pol-text";
}

function render(r: PolicyCheckReport, detected: boolean): void {
  const v = verdictLine(r, detected);
  const verdict = byId("pol-verdict");
  verdict.textContent = v.text;
  verdict.className = v.class;
  byId("pol-access").querySelector("tbody")?.replaceChildren(
    ...(r.access.length
      ? accessRows(r).map((row) => h("tr", { class: row.class, "data-step": row.key }, ...row.cells.map(td)))
      : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: "no pipelines file: paste one to see its steps" }))]),
  );
  byId("pol-boundary").querySelector("tbody")?.replaceChildren(
    ...boundaryRows(r).map((row) => h("tr", { class: row.class, "data-token": row.key }, ...row.cells.map(td))),
  );
  byId("pol-findings").replaceChildren(
    ...(r.findings.length
      ? sortedFindings(r.findings).map((f) => {
          const view = findingView(f);
          return h(
            "li",
            { class: view.class, "data-finding": f.id },
            h("strong", { class: f.severity, text: view.head }),
            view.where ? h("span", { class: "muted", text: ` (${view.where})` }) : null,
            h("div", { text: view.message }),
            h("div", { class: "fix", text: view.fix }),
          );
        })
      : [h("li", { class: "muted", text: "no findings" })]),
  );
  byId("pol-notes").replaceChildren(...r.notes.map((n) => h("div", { text: n })));
  byId("pol-results").hidden = false;
}

/** Shows a refused check under the text area at fault, and selects the line it names. */
function showError(text: string): void {
  const target = errorTarget(text);
  const line = errorLine(text);
  const box = byId(target === "pol-text" ? "pol-error" : "pol-pipelines-error");
  box.textContent = line ? `${text} (line ${line} is selected)` : text;
  box.hidden = false;
  byId("pol-results").hidden = true;
  if (line) {
    const area = byId<HTMLTextAreaElement>(target);
    const [start, end] = lineSpan(area.value, line);
    area.focus();
    area.setSelectionRange(start, end);
  }
}

/** Runs the check of what the form holds. */
export async function runCheck(): Promise<void> {
  const button = byId<HTMLButtonElement>("btn-policy-check");
  for (const id of ["pol-error", "pol-pipelines-error"]) byId(id).hidden = true;
  button.disabled = true;
  try {
    const kind = byId<HTMLSelectElement>("pol-kind").value;
    const req = checkRequest(byId<HTMLTextAreaElement>("pol-text").value, kind, byId<HTMLTextAreaElement>("pol-pipelines").value, byId<HTMLSelectElement>("pol-workspace").value);
    render(await api.policyCheck(req), kind === "");
  } catch (e) {
    showError(message(e));
  } finally {
    button.disabled = false;
  }
}

/** Reads a chosen file into a text area (in the page: nothing is uploaded). */
function loadInto(input: HTMLInputElement, target: string): void {
  const file = input.files?.[0];
  if (!file) return;
  void file.text().then(
    (text) => {
      byId<HTMLTextAreaElement>(target).value = text;
      input.value = "";
    },
    (e) => showError(`${file.name}: ${message(e)}`),
  );
}

function fileButton(id: string, accept: string, label: string, target: string): HTMLElement {
  const input = h("input", { id, type: "file", accept, hidden: true });
  input.addEventListener("change", () => loadInto(input, target));
  return h("span", {}, input, h("button", { type: "button", id: `${id}-button`, onclick: () => input.click() }, label));
}

function textArea(id: string, placeholder: string, label: string, value = ""): HTMLTextAreaElement {
  const area = h("textarea", { id, class: "token policy-text", placeholder, spellcheck: "false", "aria-label": label });
  area.value = value;
  // Ctrl/Cmd+Enter checks, as in a query editor.
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void runCheck();
    }
  });
  return area;
}

export function renderPolicies(root: HTMLElement): void {
  const examples = h(
    "select",
    { id: "pol-example", "aria-label": "Example policy" },
    h("option", { value: "", text: "(an example)" }),
    ...EXAMPLE_POLICIES.map((e, i) => h("option", { value: String(i), text: e.name })),
  );
  examples.addEventListener("change", () => {
    const ex = EXAMPLE_POLICIES[Number(examples.value)];
    if (examples.value === "" || !ex) return;
    byId<HTMLTextAreaElement>("pol-text").value = ex.text;
    byId<HTMLSelectElement>("pol-kind").value = "";
    examples.value = "";
  });
  const workspace = h("select", { id: "pol-workspace", "aria-label": "Workspace for what the policy does not pin" });
  const pipelinesArea = textArea("pol-pipelines", "paste a bitbucket-pipelines.yml to see each step's access (empty: none)", "Pipelines file", EXAMPLE_PIPELINES);
  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Policy" }),
        textArea("pol-text", "paste a trust policy, Vault role, GCP provider or Azure credential (JSON)", "Policy document"),
        h("div", { id: "pol-error", class: "field-error", role: "alert", hidden: true }),
        h(
          "div",
          { class: "row" },
          fileButton("pol-file", ".json,application/json", "Load file…", "pol-text"),
          examples,
          h("label", {}, "Kind ", h("select", { id: "pol-kind" }, ...KINDS.map((k) => h("option", { value: k, text: k || "detect" })))),
        ),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "bitbucket-pipelines.yml" }),
        pipelinesArea,
        h("div", { id: "pol-pipelines-error", class: "field-error", role: "alert", hidden: true }),
        h(
          "div",
          { class: "row" },
          fileButton("pol-pipelines-file", ".yml,.yaml", "Load file…", "pol-pipelines"),
          h("button", { type: "button", id: "btn-pipelines-example", onclick: () => (pipelinesArea.value = EXAMPLE_PIPELINES) }, "Example"),
          h("button", { type: "button", id: "btn-pipelines-clear", onclick: () => (pipelinesArea.value = "") }, "None"),
        ),
        h("label", {}, "Workspace (issuer and UUIDs the policy does not pin) ", workspace),
      ),
    ),
    h("div", { class: "row" }, h("button", { id: "btn-policy-check", class: "primary", onclick: () => void runCheck() }, "Check"), h("span", { class: "muted", text: "Ctrl+Enter in a text area" })),
    h(
      "div",
      { id: "pol-results", hidden: true },
      h("div", { class: "panel" }, h("h2", {}, "Verdict ", h("span", { id: "pol-verdict", class: "verdict" })), h("div", { id: "pol-notes", class: "muted" })),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Access: which steps get in" }),
        h("table", { id: "pol-access" }, h("thead", {}, h("tr", {}, ...["step", "branch", "environment", "access", "why"].map((t) => h("th", { text: t })))), h("tbody")),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Boundary tokens: the ones that get in are highlighted" }),
        h("table", { id: "pol-boundary" }, h("thead", {}, h("tr", {}, ...["token", "change", "access", "should get in", "why"].map((t) => h("th", { text: t })))), h("tbody")),
      ),
      h("div", { class: "panel" }, h("h2", { text: "Findings" }), h("ul", { id: "pol-findings", class: "findings" })),
    ),
  );
  onStatus((s) => {
    const slugs = ["", ...(s.server?.workspaces ?? []).map((w) => w.slug)];
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    const chosen = workspace.value;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug || "(stand-ins)" })));
    if (slugs.includes(chosen)) workspace.value = chosen;
  });
}
