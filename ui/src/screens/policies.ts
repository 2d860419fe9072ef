// Policies: paste or load a relying party's trust policy (AWS role trust policy, Vault/OpenBao
// JWT role, GCP provider, Azure federated credential), optionally with a bitbucket-pipelines.yml,
// or pick a role the server emulates, and see what `stepmint policy check` says: which steps get
// in (green) or not (red), which neighbouring tokens get in, and the findings with their fixes.
import { api, message, type PolicyCheckReport, type PolicyCheckRequest, type PolicyFinding } from "../api";
import { byId, h, td, toast, type Cell } from "../lib/dom";
import { onStatus } from "../state";

/** A named role the server emulates (fed by a later call; the list may be empty). */
export interface NamedRole { name: string; kind?: string | null; policy: string }

/** The kinds the check knows; blank: detected from the document. */
export const KINDS = ["", "aws", "vault", "gcp", "azure"] as const;

/** The request the form describes; throws a readable error on an empty policy or an unknown kind. */
export function checkRequest(policy: string, kind: string, pipelines: string, workspace: string): PolicyCheckRequest {
  if (policy.trim() === "") throw new Error("paste or load a policy first");
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`unknown kind "${kind}" (aws, vault, gcp or azure)`);
  return {
    policy,
    kind: kind || null,
    pipelines: pipelines.trim() === "" ? null : pipelines,
    workspace: workspace || null,
  };
}

/** The access table's rows: step, branch, environment, the allowed cell (green/red), why. */
export function accessRows(r: PolicyCheckReport): { cells: Cell[]; class: string; step: string }[] {
  return r.access.map((a) => ({
    step: a.step,
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

/** An allowed/denied cell: green when it gets in, red when not, red and marked when it gets in but should not. */
export function allowedCell(allowed: boolean, unexpected: boolean): Cell {
  if (allowed && unexpected) return { text: "ALLOWED (unexpected)", class: "access-unexpected" };
  return allowed ? { text: "allowed", class: "access-allowed" } : { text: "denied", class: "access-denied" };
}

/** The boundary tokens that get in, those meant to be kept out first; `all` lists the refused too. */
export function boundaryRows(r: PolicyCheckReport, all = false): { cells: Cell[]; token: string }[] {
  return r.boundary
    .filter((b) => all || b.allowed)
    .sort((a, b) => Number(b.unexpected) - Number(a.unexpected))
    .map((b) => ({
      token: b.token,
      cells: [{ text: b.token }, { text: b.change }, allowedCell(b.allowed, b.unexpected), { text: b.why }],
    }));
}

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

/** Findings most severe first, then by line, then by id (stable for equal keys). */
export function sortedFindings(fs: PolicyFinding[]): PolicyFinding[] {
  return [...fs].sort(
    (a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || (a.line ?? Infinity) - (b.line ?? Infinity) || a.id.localeCompare(b.id),
  );
}

/** The verdict line. */
export function verdictLine(r: PolicyCheckReport): { text: string; class: string } {
  const allowed = r.access.filter((a) => a.allowed).length;
  const leaks = r.boundary.filter((b) => b.unexpected).length;
  const errors = r.findings.filter((f) => f.severity === "error").length;
  const counts = `${r.kind}: ${allowed}/${r.access.length} steps get in, ${leaks} boundary token(s) get in that should not, ${errors} error finding(s)`;
  return r.failed ? { text: `FAIL — ${counts}`, class: "verdict fail" } : { text: `PASS — ${counts}`, class: "verdict pass" };
}

function render(r: PolicyCheckReport): void {
  const v = verdictLine(r);
  const verdict = byId("pol-verdict");
  verdict.textContent = v.text;
  verdict.className = v.class;
  byId("pol-access").querySelector("tbody")?.replaceChildren(
    ...(r.access.length
      ? accessRows(r).map((row) => h("tr", { class: row.class, "data-step": row.step }, ...row.cells.map(td)))
      : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: "no pipelines file: paste one to see its steps" }))]),
  );
  const all = byId<HTMLInputElement>("pol-boundary-all").checked;
  const rows = boundaryRows(r, all);
  byId("pol-boundary").querySelector("tbody")?.replaceChildren(
    ...(rows.length
      ? rows.map((row) => h("tr", { "data-token": row.token }, ...row.cells.map(td)))
      : [h("tr", {}, h("td", { colspan: 4, class: "muted", text: "no boundary token gets in" }))]),
  );
  byId("pol-findings").replaceChildren(
    ...(r.findings.length
      ? sortedFindings(r.findings).map((f) =>
          h(
            "li",
            { class: `finding ${f.severity}`, "data-finding": f.id },
            h("strong", { class: f.severity, text: `${f.severity} ${f.id}` }),
            f.at ? h("span", { class: "muted", text: ` (${f.at})` }) : null,
            h("div", { text: f.message }),
            h("div", { class: "fix", text: `Fix: ${f.fix}` }),
          ),
        )
      : [h("li", { class: "muted", text: "no findings" })]),
  );
  byId("pol-notes").replaceChildren(...r.notes.map((n) => h("div", { text: n })));
}

let last: PolicyCheckReport | null = null;

/** Runs the check of what the form holds. */
export async function runCheck(): Promise<void> {
  try {
    const req = checkRequest(
      byId<HTMLTextAreaElement>("pol-text").value,
      byId<HTMLSelectElement>("pol-kind").value,
      byId<HTMLTextAreaElement>("pol-pipelines").value,
      byId<HTMLSelectElement>("pol-workspace").value,
    );
    last = await api.policyCheck(req);
    render(last);
  } catch (e) {
    toast(message(e), true);
  }
}

/** Reads a chosen file into a text area (in the page: nothing is uploaded). */
function loadInto(input: HTMLInputElement, target: string): void {
  const file = input.files?.[0];
  if (!file) return;
  void file.text().then(
    (text) => (byId<HTMLTextAreaElement>(target).value = text),
    (e) => toast(`${file.name}: ${message(e)}`, true),
  );
}

/** Offers `roles` in the role picker (hidden while there are none). */
export function setRoles(roles: NamedRole[]): void {
  const pick = byId<HTMLSelectElement>("pol-role");
  pick.replaceChildren(h("option", { value: "", text: "(paste or load a policy)" }), ...roles.map((r, i) => h("option", { value: String(i), text: r.kind ? `${r.name} (${r.kind})` : r.name })));
  byId("pol-role-row").hidden = roles.length === 0;
  pick.onchange = () => {
    const role = roles[Number(pick.value)];
    if (pick.value === "" || !role) return;
    byId<HTMLTextAreaElement>("pol-text").value = role.policy;
    byId<HTMLSelectElement>("pol-kind").value = role.kind && (KINDS as readonly string[]).includes(role.kind) ? role.kind : "";
  };
}

export function renderPolicies(root: HTMLElement): void {
  const policyFile = h("input", { id: "pol-file", type: "file", accept: ".json,application/json", "aria-label": "Load a policy file" });
  policyFile.addEventListener("change", () => loadInto(policyFile, "pol-text"));
  const pipelinesFile = h("input", { id: "pol-pipelines-file", type: "file", accept: ".yml,.yaml", "aria-label": "Load a pipelines file" });
  pipelinesFile.addEventListener("change", () => loadInto(pipelinesFile, "pol-pipelines"));
  const workspace = h("select", { id: "pol-workspace", "aria-label": "Workspace for what the policy does not pin" });
  const boundaryAll = h("input", { id: "pol-boundary-all", type: "checkbox" });
  boundaryAll.addEventListener("change", () => last && render(last));
  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Policy" }),
        h("div", { id: "pol-role-row", class: "row", hidden: true }, h("label", {}, "Role the server emulates", h("select", { id: "pol-role" }))),
        h("textarea", { id: "pol-text", class: "token", placeholder: "paste a trust policy (JSON)", spellcheck: "false", "aria-label": "Policy document" }),
        h("div", { class: "row" }, policyFile,
          h("label", {}, "Kind", h("select", { id: "pol-kind" }, ...KINDS.map((k) => h("option", { value: k, text: k || "detect" })))),
        ),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "bitbucket-pipelines.yml (optional)" }),
        h("textarea", { id: "pol-pipelines", class: "token", placeholder: "paste a bitbucket-pipelines.yml to see each step's access", spellcheck: "false", "aria-label": "Pipelines file" }),
        h("div", { class: "row" }, pipelinesFile),
        h("label", {}, "Workspace (issuer and UUIDs the policy does not pin)", workspace),
      ),
    ),
    h("div", { class: "row" }, h("button", { id: "btn-policy-check", class: "primary", onclick: () => void runCheck() }, "Check")),
    h("div", { class: "panel" }, h("h2", {}, "Verdict ", h("span", { id: "pol-verdict", class: "verdict" })), h("div", { id: "pol-notes", class: "muted" })),
    h(
      "div",
      { class: "panel" },
      h("h2", { text: "Access: which steps get the role" }),
      h("table", { id: "pol-access" }, h("thead", {}, h("tr", {}, ...["step", "branch", "environment", "access", "why"].map((t) => h("th", { text: t })))), h("tbody")),
    ),
    h(
      "div",
      { class: "panel" },
      h("h2", {}, "Boundary tokens that get in ", h("label", { class: "muted" }, boundaryAll, " show refused too")),
      h("table", { id: "pol-boundary" }, h("thead", {}, h("tr", {}, ...["token", "change", "access", "why"].map((t) => h("th", { text: t })))), h("tbody")),
    ),
    h("div", { class: "panel" }, h("h2", { text: "Findings" }), h("ul", { id: "pol-findings", class: "findings" })),
  );
  setRoles([]);
  onStatus((s) => {
    const slugs = ["", ...(s.server?.workspaces ?? []).map((w) => w.slug)];
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug || "(stand-ins)" })));
  });
}
