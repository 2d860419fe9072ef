// Inspector: paste a token, see its header and claims (times as dates and relative), and the
// validator's per-check report against a workspace's policy with editable rules.
import { api, message, type Inspection, type PolicyOverrides, type Report } from "../api";
import { byId, h, pretty, toast } from "../lib/dom";
import { parseConditions, splitList } from "../lib/json";
import { timeNotes } from "../lib/time";
import { onStatus } from "../state";

/** The policy form's fields as typed. */
export interface PolicyForm { audiences: string; subLike: string; leeway: string; conditions: string }

/** The policy overrides the form describes (blank fields keep the workspace's); throws on a bad condition line. */
export function policyFrom(f: PolicyForm): Partial<PolicyOverrides> {
  const policy: Partial<PolicyOverrides> = {};
  const auds = splitList(f.audiences);
  if (auds.length) policy.audiences = auds;
  const subs = splitList(f.subLike);
  if (subs.length) policy.sub_like = subs;
  if (f.leeway !== "") policy.leeway = Number(f.leeway);
  const conditions = parseConditions(f.conditions);
  if (conditions.length) policy.conditions = conditions;
  return policy;
}

/** The verdict line: ACCEPTED, or REFUSED with the validator's reason. */
export function verdictText(r: Report): string {
  return r.accepted ? "ACCEPTED" : `REFUSED: ${r.reason ?? ""}`;
}

/** The notes under the claims: the time claims in words, then the decoder's own notes. */
export function inspectionNotes(r: Inspection): string[] {
  const claims = r.decoded?.claims;
  return [
    ...(claims && typeof claims === "object" && !Array.isArray(claims) ? timeNotes(claims as Record<string, unknown>, r.now) : []),
    ...(r.decoded?.notes ?? []),
  ];
}

function render(r: Inspection): void {
  const verdict = byId("in-verdict");
  verdict.textContent = verdictText(r.report);
  verdict.className = `verdict ${r.report.verdict}`;
  const body = byId("in-checks").querySelector("tbody");
  body?.replaceChildren(...r.report.checks.map((c) => h("tr", { class: `check ${c.status}`, "data-check": c.name }, h("td", { text: c.name }), h("td", { class: c.status, text: c.status }), h("td", { text: c.detail }))));
  byId("in-header").textContent = r.decoded ? pretty(r.decoded.header) : r.decode_error ?? "";
  const claims = r.decoded?.claims;
  byId("in-claims").textContent = claims === undefined ? "" : pretty(claims);
  byId("in-times").replaceChildren(...inspectionNotes(r).map((n) => h("div", { text: n })));
}

export async function inspectToken(token?: string): Promise<void> {
  const area = byId<HTMLTextAreaElement>("in-token");
  if (token !== undefined) area.value = token;
  try {
    const policy = policyFrom({
      audiences: byId<HTMLTextAreaElement>("in-audiences").value,
      subLike: byId<HTMLTextAreaElement>("in-sub-like").value,
      leeway: byId<HTMLInputElement>("in-leeway").value,
      conditions: byId<HTMLTextAreaElement>("in-conditions").value,
    });
    const ws = byId<HTMLSelectElement>("in-workspace").value || undefined;
    render(await api.inspect(area.value, ws, policy));
  } catch (e) {
    toast(message(e), true);
  }
}

export function renderInspector(root: HTMLElement): void {
  const workspace = h("select", { id: "in-workspace", "aria-label": "Policy of workspace" });
  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Token" }),
        h("textarea", { id: "in-token", class: "token", placeholder: "paste a token", spellcheck: "false", "aria-label": "Token to inspect" }),
        h("div", { class: "row" }, h("button", { id: "btn-inspect", class: "primary", onclick: () => inspectToken() }, "Inspect")),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Policy" }),
        h("label", {}, "Workspace (issuer, keys and default audience)", workspace),
        h("label", {}, "Accepted audiences (blank: the workspace default)", h("textarea", { id: "in-audiences", class: "short" })),
        h("label", {}, "sub must match (StringLike, one per line)", h("textarea", { id: "in-sub-like", class: "short", placeholder: "{*}:{*}" })),
        h("label", {}, "Claim conditions (KEY=PATTERN, one per line)", h("textarea", { id: "in-conditions", class: "short", placeholder: "branchName=main" })),
        h("label", {}, "Leeway (seconds)", h("input", { id: "in-leeway", type: "number", min: 0, value: 30 })),
      ),
    ),
    h("div", { class: "panel" }, h("h2", {}, "Verdict ", h("span", { id: "in-verdict", class: "verdict" })), h("table", { id: "in-checks" }, h("thead", {}, h("tr", {}, h("th", { text: "check" }), h("th", { text: "status" }), h("th", { text: "detail" }))), h("tbody"))),
    h("div", { class: "grid2" }, h("div", { class: "panel" }, h("h2", { text: "Header" }), h("pre", { id: "in-header" })), h("div", { class: "panel" }, h("h2", { text: "Claims" }), h("div", { id: "in-times", class: "muted" }), h("pre", { id: "in-claims" }))),
  );
  onStatus((s) => {
    const slugs = (s.server?.workspaces ?? []).map((w) => w.slug);
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug })));
  });
}
