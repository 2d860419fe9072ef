// Crafter: the Bitbucket step form, JSON claims and header editors with inline errors, the
// catalogue picker, and the minted token with copy buttons and its decoded parts.
import { api, message, type CaseSummary, type Minted, type StepRequest } from "../api";
import { copy, download, fileName, h, pretty, toast } from "../lib/dom";
import { parseObject, splitList, type JsonObject, type Parsed } from "../lib/json";
import { openInInspector } from "../nav";
import { onStatus } from "../state";

let cases: CaseSummary[] = [];
let last: Minted | null = null;

/** The step form's fields as typed. */
export interface StepForm { workspace: string; repo: string; env: string; branch: string; audiences: string; lifetime: string; case: string }

/** The mint request for the form and the parsed editors; blank fields are left to the issuer's defaults. */
export function stepRequest(f: StepForm, claims: JsonObject, header: JsonObject): StepRequest {
  const blankToUndef = (v: string) => (v.trim() === "" ? undefined : v.trim());
  return {
    workspace: f.workspace || undefined,
    repository_uuid: blankToUndef(f.repo),
    deployment_environment_uuid: blankToUndef(f.env),
    branch: blankToUndef(f.branch),
    audiences: splitList(f.audiences),
    lifetime: f.lifetime === "" ? undefined : Number(f.lifetime),
    claims,
    header,
    case: f.case || undefined,
  };
}

/** The line under the case picker: what the case is and what a strict relying party does with it. */
export function caseInfo(c: CaseSummary | undefined): string {
  return c ? `${c.description}. A strict relying party: ${c.expected}${c.rule ? ` (${c.rule})` : ""}. Exploitable by ${c.exploitable_by.replaceAll("_", " ")}: ${c.exploit}. Reference: ${c.reference}.` : "";
}

/** The inline error under a JSON editor; empty when the text parses. */
export function editorError(p: Parsed): string {
  return p.ok ? "" : `line ${p.line}, column ${p.column}: ${p.message}`;
}

/** The recipe's name (blank: "crafted") and the file it is saved as. */
export function recipeName(text: string): { name: string; file: string } {
  const name = text.trim() || "crafted";
  return { name, file: fileName(name, ".toml") };
}

/** The shell line that hands the token to a step's tooling. */
export function exportLine(token: string): string {
  return `export BITBUCKET_STEP_OIDC_TOKEN='${token}'`;
}

function editor(id: string, label: string, placeholder: string): { wrap: HTMLElement; area: HTMLTextAreaElement; check: () => Parsed } {
  const area = h("textarea", { id, placeholder, spellcheck: "false", "aria-describedby": `${id}-error` }) as HTMLTextAreaElement;
  const err = h("div", { id: `${id}-error`, class: "error" });
  const check = () => {
    const p = parseObject(area.value);
    err.textContent = editorError(p);
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
  const audiences = h("textarea", { id: "cr-audiences", placeholder: "one per line (at most 10)", class: "short tall" });
  const lifetime = h("input", { id: "cr-lifetime", type: "number", min: 1, value: 3600 });
  const claims = editor("cr-claims", "Claims merged over the defaults (null removes)", '{ "team": "qa" }');
  const header = editor("cr-header", "Header members merged over the defaults", '{ "typ": "JWT" }');
  const caseSel = h("select", { id: "cr-case", "aria-label": "Catalogue case" }, h("option", { value: "", text: "— a genuine step token —" }));
  const caseText = h("div", { id: "cr-case-info", class: "muted" });
  const out = h("textarea", { id: "mint-token", class: "token", readonly: true, "aria-label": "Minted token" }) as HTMLTextAreaElement;
  const outHeader = h("pre", { id: "mint-header" });
  const outClaims = h("pre", { id: "mint-claims" });
  const notes = h("div", { id: "mint-notes", class: "note" });
  const recipeInput = h("input", { id: "cr-recipe-name", value: "crafted", size: 14 });

  caseSel.addEventListener("change", () => {
    caseText.textContent = caseInfo(cases.find((x) => x.name === caseSel.value));
  });

  // The request the form describes; null (and a toast) while an editor holds bad JSON.
  const currentRequest = (): StepRequest | null => {
    const pc = claims.check();
    const ph = header.check();
    if (!pc.ok || !ph.ok) {
      toast("fix the JSON first", true);
      return null;
    }
    const form = { workspace: workspace.value, repo: repo.value, env: env.value, branch: branch.value, audiences: audiences.value, lifetime: lifetime.value, case: caseSel.value };
    return stepRequest(form, pc.value, ph.value);
  };

  const mint = async () => {
    const request = currentRequest();
    if (!request) return;
    try {
      last = await api.mint(request);
      out.value = last.token;
      outHeader.textContent = pretty(last.header);
      outClaims.textContent = pretty(last.claims);
      notes.textContent = (last.notes ?? []).join("; ");
      // Minted but not kept in the history (a full disk): the token is good, the user is told.
      if (last.warning) toast(last.warning, true);
      else toast(last.case ? `minted case ${last.case.name}` : "minted");
    } catch (e) {
      toast(message(e), true);
    }
  };

  // The same request as a recipe, for the Probe screen or `stepmint probe --recipe`.
  const saveRecipe = async () => {
    const request = currentRequest();
    if (!request) return;
    const { name, file } = recipeName(recipeInput.value);
    try {
      download(file, await api.recipeFromRequest(request, name), "application/toml");
      toast(`recipe saved as ${file}`);
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
        caseText,
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Claims and header" }),
        claims.wrap,
        header.wrap,
        h(
          "div",
          { class: "row" },
          h("button", { id: "btn-mint", class: "primary", onclick: mint }, "Mint"),
          h("button", { id: "btn-save-recipe", onclick: saveRecipe, title: "Save this request as a recipe (TOML) for the Probe screen" }, "Save as recipe"),
          // A visible label, not only an aria-label: sighted users need to know what the box names.
          h("label", { class: "inline" }, "Recipe name", recipeInput),
        ),
      ),
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
        h("button", { id: "btn-copy-export", onclick: () => last && copy(exportLine(last.token), "export line") }, "Copy as export BITBUCKET_STEP_OIDC_TOKEN=…"),
        h("button", { id: "btn-open-inspector", onclick: () => last && openInInspector(last.token) }, "Open in Inspector"),
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
  onStatus((s) => {
    const current = workspace.value;
    const slugs = (s.server?.workspaces ?? []).map((w) => w.slug);
    if (slugs.join() === Array.from(workspace.options).map((o) => o.value).join()) return;
    workspace.replaceChildren(...slugs.map((slug) => h("option", { value: slug, text: slug })));
    if (slugs.includes(current)) workspace.value = current;
  });
}
