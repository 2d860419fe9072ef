// Crafter: the Bitbucket step form, JSON claims and header editors with inline errors, the
// catalogue picker, and the minted token with copy buttons and its decoded parts.
import { api, message, type CaseSummary, type Minted, type StepRequest } from "../api";
import { app } from "../main";
import { copy, h, pretty, toast } from "../lib/dom";
import { parseObject, splitList, type Parsed } from "../lib/json";

let cases: CaseSummary[] = [];
let last: Minted | null = null;

function editor(id: string, label: string, placeholder: string): { wrap: HTMLElement; area: HTMLTextAreaElement; check: () => Parsed } {
  const area = h("textarea", { id, placeholder, spellcheck: "false", "aria-describedby": `${id}-error` }) as HTMLTextAreaElement;
  const err = h("div", { id: `${id}-error`, class: "error" });
  const check = () => {
    const p = parseObject(area.value);
    err.textContent = p.ok ? "" : `line ${p.line}, column ${p.column}: ${p.message}`;
    area.setAttribute("aria-invalid", String(!p.ok));
    return p;
  };
  area.addEventListener("input", check);
  return { wrap: h("label", {}, label, area, err), area, check };
}

export function renderCrafter(root: HTMLElement): void {
  const workspace = h("select", { id: "cr-workspace", "aria-label": "Workspace" });
  const repo = h("input", { id: "cr-repo", placeholder: "default repository", size: 40 });
  const env = h("input", { id: "cr-env", placeholder: "none (not a deployment step)", size: 40 });
  const branch = h("input", { id: "cr-branch", value: "main" });
  const audiences = h("textarea", { id: "cr-audiences", placeholder: "one per line (at most 10)", style: "min-height:48px" });
  const lifetime = h("input", { id: "cr-lifetime", type: "number", min: 1, value: 3600 });
  const claims = editor("cr-claims", "Claims merged over the defaults (null removes)", '{ "team": "qa" }');
  const header = editor("cr-header", "Header members merged over the defaults", '{ "typ": "JWT" }');
  const caseSel = h("select", { id: "cr-case", "aria-label": "Catalogue case" }, h("option", { value: "", text: "— a genuine step token —" }));
  const caseInfo = h("div", { id: "cr-case-info", class: "muted" });
  const out = h("textarea", { id: "mint-token", class: "token", readonly: true, "aria-label": "Minted token" }) as HTMLTextAreaElement;
  const outHeader = h("pre", { id: "mint-header" });
  const outClaims = h("pre", { id: "mint-claims" });
  const notes = h("div", { id: "mint-notes", class: "note" });

  caseSel.addEventListener("change", () => {
    const c = cases.find((x) => x.name === caseSel.value);
    caseInfo.textContent = c ? `${c.description}. A strict relying party: ${c.expected}${c.rule ? ` (${c.rule})` : ""}. Reference: ${c.reference}.` : "";
  });

  const mint = async () => {
    const pc = claims.check();
    const ph = header.check();
    if (!pc.ok || !ph.ok) {
      toast("fix the JSON first", true);
      return;
    }
    const uuidOrUndef = (v: string) => (v.trim() === "" ? undefined : v.trim());
    const request: StepRequest = {
      workspace: workspace.value || undefined,
      repository_uuid: uuidOrUndef(repo.value),
      deployment_environment_uuid: uuidOrUndef(env.value),
      branch: branch.value.trim() === "" ? undefined : branch.value.trim(),
      audiences: splitList(audiences.value),
      lifetime: lifetime.value === "" ? undefined : Number(lifetime.value),
      claims: pc.value,
      header: ph.value,
      case: caseSel.value || undefined,
    };
    try {
      last = await api.mint(request);
      out.value = last.token;
      outHeader.textContent = pretty(last.header);
      outClaims.textContent = pretty(last.claims);
      notes.textContent = (last.notes ?? []).join("; ");
      toast(last.case ? `minted case ${last.case.name}` : "minted");
    } catch (e) {
      toast(message(e), true);
    }
  };

  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Bitbucket step" }),
        h("label", {}, "Workspace", workspace),
        h("label", {}, "Repository UUID", repo),
        h("label", {}, "Deployment environment UUID", env),
        h("label", {}, "Branch", branch),
        h("label", {}, "Extra audiences", audiences),
        h("label", {}, "Lifetime (seconds)", lifetime),
        h("label", {}, "Catalogue case", caseSel),
        caseInfo,
      ),
      h("div", { class: "panel" }, h("h2", { text: "Claims and header" }), claims.wrap, header.wrap, h("div", { class: "row" }, h("button", { id: "btn-mint", class: "primary", onclick: mint }, "Mint"))),
    ),
    h(
      "div",
      { class: "panel" },
      h("h2", { text: "Token" }),
      out,
      notes,
      h(
        "div",
        { class: "row" },
        h("button", { id: "btn-copy-token", onclick: () => last && copy(last.token, "Token") }, "Copy token"),
        h("button", { id: "btn-copy-export", onclick: () => last && copy(`export BITBUCKET_STEP_OIDC_TOKEN='${last.token}'`, "export line") }, "Copy as export BITBUCKET_STEP_OIDC_TOKEN=…"),
        h("button", { id: "btn-open-inspector", onclick: () => last && app.openInInspector(last.token) }, "Open in Inspector"),
      ),
      h("div", { class: "grid2" }, h("div", {}, h("h3", { text: "Header" }), outHeader), h("div", {}, h("h3", { text: "Claims" }), outClaims)),
    ),
  );

  void api.cases().then(
    (list) => {
      cases = list;
      for (const c of list) caseSel.append(h("option", { value: c.name, text: `${c.name} (${c.expected})` }));
    },
    (e) => toast(message(e), true),
  );
  app.onStatus((s) => {
    const current = workspace.value;
    const slugs = (s.server?.workspaces ?? []).map((w) => w.slug);
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug })));
    if (slugs.includes(current)) workspace.value = current;
  });
}
