// Probe: point the catalogue, the policy-boundary cases, recipes and generated tokens at a live
// relying party under a declared policy; read which hostile tokens it accepts, and who could
// exploit each (anyone, another workspace or repository, a branch pusher, a holder of the
// trusted step's other tokens, or nobody: hygiene), each generated one shrunk to its minimal
// difference and saved as a recipe.
import { api, message, type ExploitableBy, type Finding, type ProbeOptions, type ProbeProgress, type ProbeReport, type ProbeRow } from "../api";
import { byId, copy, download, fileName, h, td, toast, type Cell } from "../lib/dom";
import { parseConditions, splitLines, splitList } from "../lib/json";

let last: ProbeReport | null = null;
let recipes: string[] = [];

/** The probe form's fields as typed. */
export interface ProbeForm {
  url: string; exec: string; shell: boolean; headers: string; audiences: string; subLike: string; claims: string;
  leeway: string; fuzz: string; seed: string; noCatalogue: boolean;
}

/** A blank form: what the screen shows before anything is typed. */
export const blankProbeForm: ProbeForm = { url: "", exec: "", shell: false, headers: "", audiences: "", subLike: "", claims: "", leeway: "", fuzz: "0", seed: "1", noCatalogue: false };

/** A number field as a whole number, or null when blank; throws a readable error otherwise. */
export function wholeNumber(text: string, what: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  // The Rust side takes unsigned integers: a sign, a fraction or an exponent would be refused there anyway.
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new Error(`${what}: "${t}" is not a whole number, 0 or more`);
  return Number(t);
}

/**
 * The `probe` command's options. Blank URL or command is null; headers, `sub` patterns and claim
 * conditions are one per line (commas kept in them); audiences split on commas too. A blank
 * leeway keeps the workspace's; 0 generated tokens sends none. Throws on a bad number or condition.
 */
export function probeOptions(f: ProbeForm, recipeTexts: string[] = []): ProbeOptions {
  const fuzz = wholeNumber(f.fuzz, "generated tokens");
  return {
    url: f.url.trim() || null,
    exec: f.exec.trim() || null,
    shell: f.shell,
    headers: splitLines(f.headers),
    audiences: splitList(f.audiences),
    sub_like: splitLines(f.subLike),
    claims: parseConditions(f.claims).map((c) => `${c.claim}=${c.like}`),
    leeway: wholeNumber(f.leeway, "leeway"),
    fuzz: fuzz === 0 ? null : fuzz,
    seed: wholeNumber(f.seed, "seed"),
    no_catalogue: f.noCatalogue,
    recipes: recipeTexts,
  };
}

/** The line next to the recipe picker. */
export function recipesNote(names: string[]): string {
  if (names.length === 0) return "no recipes loaded";
  return `${names.length} recipe${names.length === 1 ? "" : "s"} loaded: ${names.join(", ")}`;
}

/** The live progress line for one `probe-progress` event. */
export function progressText(p: ProbeProgress): string {
  const of = p.total === null ? `${p.done}` : `${p.done}/${p.total}`;
  switch (p.phase) {
    case "cases":
      return `cases: ${of} sent`;
    case "fuzz":
      return `fuzz: ${of} tokens, ${Math.round(p.rate)}/s, ${p.findings} accepted hostile`;
    case "shrink":
      return `shrinking: ${p.done} disagreement${p.done === 1 ? "" : "s"} shrunk, ${p.findings} distinct finding${p.findings === 1 ? "" : "s"}`;
    default:
      return `${p.phase}: ${of}`;
  }
}

/**
 * The findings from generated tokens, counted once for the whole screen (the line above the
 * results and the Findings panel say the same number): every finding listed, split into hostile
 * tokens the relying party accepted and genuine ones it refused.
 */
export function findingsCount(fs: Pick<Finding, "kind">[]): string {
  const n = fs.length;
  const accepted = fs.filter((f) => f.kind === "accepted").length;
  const refused = fs.filter((f) => f.kind === "false_refusal").length;
  const parts = [accepted ? `${accepted} hostile accepted` : "", refused ? `${refused} genuine refused` : ""].filter(Boolean);
  return `${n} finding${n === 1 ? "" : "s"} from generated tokens${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/** The line above the results: baseline and counts, and how many could be exploited. */
export function probeSummary(r: ProbeReport): string {
  const s = r.summary;
  const findings = r.findings.length ? `; ${findingsCount(r.findings)}` : "";
  const who = s.exploitable || s.hygiene ? `; ${s.exploitable} exploitable, ${s.hygiene} hygiene (exploitable by nobody)` : "";
  return `${r.baseline}; ${s.total} cases: ${s.passed} as expected, ${s.failed} wrongly accepted or refused, ${s.skipped} skipped${findings}${who}`;
}

/** Who could exploit a token, the most people first (the order reports sort by). */
export const exploitableOrder: readonly ExploitableBy[] = ["anyone", "any_workspace", "same_workspace_repo", "branch_pusher", "token_holder", "nobody"];

const phrases: Record<ExploitableBy, string> = {
  anyone: "anyone",
  any_workspace: "any Bitbucket workspace",
  same_workspace_repo: "any repository in the workspace",
  branch_pusher: "anyone who can push a branch",
  token_holder: "a holder of the trusted step's other tokens",
  nobody: "nobody (hygiene)",
};

/** Who could exploit it, for people; a branch pusher's branch named. */
export function exploitText(by: ExploitableBy | null, branch: string | null): string {
  if (!by) return "";
  return branch && by === "branch_pusher" ? `${phrases[by]}: push ${JSON.stringify(branch)}` : phrases[by];
}

function exploitRank(by: ExploitableBy | null): number {
  const i = by ? exploitableOrder.indexOf(by) : -1;
  return i < 0 ? exploitableOrder.length : i;
}

const verdicts = ["fail", "strict", "error", "pass", "skip"] as const;

/** The CSS class of a verdict; anything unknown is shown as skip. */
export function verdictClass(v: string): string {
  return (verdicts as readonly string[]).includes(v) ? v : "skip";
}

/** The most characters of the relying party's answer a row shows (the whole answer is the row's tooltip). */
export const ANSWER_MAX = 120;

/** What the relying party answered (HTTP status and the start of the body, a command's exit and stderr), on one line and short. */
export function answerText(detail: string): string {
  const line = detail.replace(/\s+/g, " ").trim();
  return line.length > ANSWER_MAX ? `${line.slice(0, ANSWER_MAX - 1)}…` : line;
}

/** The results table's column headings, in the order of [`probeCells`]. */
export const probeColumns = ["case", "expected", "observed", "relying party's answer", "verdict", "exploitable by", "reference"] as const;

/**
 * A result's cells in column order; the answer cell is what the relying party said, the verdict
 * cell names the severity of a wrongly accepted token, and the next cell who could exploit it
 * (hygiene when nobody could).
 */
export function probeCells(r: ProbeRow): Cell[] {
  const verdict = r.severity ? `${r.verdict} (${r.severity})` : r.verdict;
  const who = r.verdict === "fail" ? exploitText(r.exploitable_by, r.attacker_branch) : "";
  return [{ text: r.case, class: "mono" }, { text: r.expected }, { text: r.observed }, { text: answerText(r.detail), class: "mono answer" }, { text: verdict, class: verdictClass(r.verdict) }, { text: who }, { text: r.reference }];
}

/** The results of one family, with a count per verdict. */
export interface ProbeGroup { family: string; rows: ProbeRow[]; counts: Record<string, number> }

/**
 * How far up a row or group goes: failures someone could exploit (the most people first), then
 * too strict, then no answer, then hygiene failures (nobody could exploit them), then the rest.
 */
function rank(r: ProbeRow): number {
  const n = exploitableOrder.length;
  if (r.verdict === "fail") return r.exploitable_by === "nobody" ? n + 2 : exploitRank(r.exploitable_by);
  const i = ["strict", "error"].indexOf(r.verdict);
  return i < 0 ? n + 3 : n + i;
}

/**
 * The rows grouped by family, so the results read at a glance: the baseline first, then the
 * families with failures (then too-strict refusals, then errors), each with its failures on top.
 * Otherwise the report's order is kept.
 */
export function groupRows(rows: ProbeRow[]): ProbeGroup[] {
  const groups: ProbeGroup[] = [];
  for (const r of rows) {
    let g = groups.find((x) => x.family === r.family);
    if (!g) groups.push((g = { family: r.family, rows: [], counts: {} }));
    g.rows.push(r);
    g.counts[r.verdict] = (g.counts[r.verdict] ?? 0) + 1;
  }
  const worst = (g: ProbeGroup) => Math.min(...g.rows.map(rank));
  for (const g of groups) g.rows.sort((a, b) => rank(a) - rank(b));
  // Array.prototype.sort is stable, so ties keep the report's order.
  return groups.sort((a, b) => Number(b.family === "baseline") - Number(a.family === "baseline") || worst(a) - worst(b));
}

/** A family's header row: its name and counts (verdicts in a fixed order), and the class of its worst verdict. */
export function familyHeading(g: ProbeGroup): Cell {
  const known = verdicts.filter((v) => g.counts[v]).map((v) => `${g.counts[v]} ${v}`);
  const other = Object.keys(g.counts).filter((v) => !(verdicts as readonly string[]).includes(v)).map((v) => `${g.counts[v]} ${v}`);
  const n = g.rows.length;
  const cls = verdicts.find((v) => g.counts[v]) ?? "skip";
  return { text: `${g.family || "other"}: ${n} case${n === 1 ? "" : "s"}, ${[...known, ...other].join(", ")}`, class: `family ${cls}` };
}

/** Findings in reading order: accepted hostile tokens before false refusals, then by who could exploit them. */
export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort((a, b) => Number(a.kind !== "accepted") - Number(b.kind !== "accepted") || exploitRank(a.exploitable_by) - exploitRank(b.exploitable_by));
}

/** A finding as text: a title, its minimal difference one line an edit, and labelled facts. */
export interface FindingView { title: string; class: string; difference: string[]; facts: [string, string][] }

export function findingView(f: Finding): FindingView {
  const kind = f.kind === "accepted" ? "accepted by the relying party, refused by the validator" : f.kind === "false_refusal" ? "refused by the relying party, accepted by the validator" : f.kind;
  const times = `${f.occurrences} generated token${f.occurrences === 1 ? "" : "s"}`;
  const accepted = f.kind === "accepted";
  const facts: [string, string][] = [
    ["exploit", accepted ? f.exploit : ""],
    ["branch to push", accepted && f.exploitable_by === "branch_pusher" ? (f.attacker_branch ?? "") : ""],
    ["validator", f.validator],
    ["relying party", f.detail],
    ["reproduce", f.reproduce],
  ];
  const who = accepted ? ` · exploitable by ${exploitText(f.exploitable_by, null)}` : "";
  return {
    title: `${f.id} · ${f.severity}${who} · ${kind} · ${times}`,
    class: `finding ${f.kind === "accepted" ? `sev-${f.severity}` : "sev-strict"}`,
    difference: f.difference.length ? f.difference : ["(the genuine token itself)"],
    facts: facts.filter(([, v]) => v.trim() !== ""),
  };
}

/** The line at the top of the findings panel. */
export function findingsNote(r: ProbeReport | null): string {
  if (!r) return "Findings come from generated tokens: set how many above and run the probe.";
  if (!r.fuzz) return "No generated tokens were sent (0 above), so there are no findings; the table below has the fixed cases.";
  const head = `${r.fuzz.sent} generated tokens (seed ${r.fuzz.seed}, ${Math.round(r.fuzz.rate)}/s)`;
  const n = r.findings.length;
  return n === 0 ? `${head}: the relying party agreed with the reference validator on every one.` : `${head}: ${findingsCount(r.findings)}, each shrunk to its minimal difference from the genuine token.`;
}

function findingElement(f: Finding): HTMLElement {
  const v = findingView(f);
  return h(
    "div",
    { class: v.class, "data-id": f.id },
    h("h3", { text: v.title }),
    h("ul", { class: "difference" }, ...v.difference.map((d) => h("li", { class: "finding-diff mono", text: d }))),
    ...v.facts.map(([k, val]) => h("div", { class: "row fact" }, h("span", { class: "muted", text: `${k}:` }), h("span", { class: k === "reproduce" ? "mono" : undefined, text: val }))),
    h(
      "div",
      { class: "row" },
      h("button", { class: "save-recipe", onclick: () => download(fileName(f.id, ".toml"), f.recipe, "application/toml") }, "Save recipe"),
      f.reproduce ? h("button", { onclick: () => copy(f.reproduce, "reproduce command") }, "Copy command") : null,
    ),
  );
}

function renderResults(r: ProbeReport): void {
  byId("pr-findings").replaceChildren(h("p", { class: "muted", text: findingsNote(r) }), ...sortFindings(r.findings).map(findingElement));
  byId("pr-table").querySelector("tbody")?.replaceChildren(
    ...groupRows(r.rows).flatMap((g) => {
      const head = familyHeading(g);
      return [
        h("tr", { class: head.class, "data-family": g.family }, h("th", { colspan: probeColumns.length, text: head.text })),
        ...g.rows.map((row) => h("tr", { class: verdictClass(row.verdict), "data-family": row.family, title: row.detail || undefined }, ...probeCells(row).map(td))),
      ];
    }),
  );
}

export function renderProbe(root: HTMLElement): void {
  const url = h("input", { id: "pr-url", placeholder: "https://localhost:9000/protected", size: 50 });
  const exec = h("input", { id: "pr-exec", placeholder: "or a command: python3 verify.py {token}", size: 50 });
  const shell = h("input", { id: "pr-shell", type: "checkbox" });
  const headers = h("textarea", { id: "pr-headers", class: "short" }, "Authorization: Bearer {token}");
  const audiences = h("textarea", { id: "pr-audiences", class: "short", placeholder: "accepted audiences (blank: workspace default)" });
  const subLike = h("textarea", { id: "pr-sub-like", class: "short", placeholder: "one StringLike pattern a line, e.g. {workspace}:{repository}:*" });
  const claims = h("textarea", { id: "pr-claims", class: "short", placeholder: "KEY=PATTERN a line, e.g. branchName=main" });
  const leeway = h("input", { id: "pr-leeway", type: "number", min: 0, step: 1, placeholder: "30", size: 6 });
  const fuzz = h("input", { id: "pr-fuzz", type: "number", min: 0, step: 1, value: 0, size: 8 });
  const seed = h("input", { id: "pr-seed", type: "number", min: 0, step: 1, value: 1, size: 8 });
  const noCatalogue = h("input", { id: "pr-no-catalogue", type: "checkbox" });
  const recipeFiles = h("input", { id: "pr-recipes", type: "file", accept: ".toml", multiple: true });
  const recipeNote = h("span", { id: "pr-recipes-count", class: "muted", text: recipesNote([]) });
  const progress = h("div", { id: "pr-progress", class: "muted", role: "status" });
  const findings = h("div", { id: "pr-findings" }, h("p", { class: "muted", text: findingsNote(null) }));
  const table = h("table", { id: "pr-table" }, h("thead", {}, h("tr", {}, ...probeColumns.map((t) => h("th", { text: t })))), h("tbody"));

  recipeFiles.addEventListener("change", async () => {
    const files = Array.from(recipeFiles.files ?? []);
    try {
      recipes = await Promise.all(files.map((f) => f.text()));
      recipeNote.textContent = recipesNote(files.map((f) => f.name));
    } catch (e) {
      recipes = [];
      recipeNote.textContent = recipesNote([]);
      toast(message(e), true);
    }
  });

  const run = async () => {
    let options: ProbeOptions;
    try {
      options = probeOptions(
        { url: url.value, exec: exec.value, shell: shell.checked, headers: headers.value, audiences: audiences.value, subLike: subLike.value, claims: claims.value, leeway: leeway.value, fuzz: fuzz.value, seed: seed.value, noCatalogue: noCatalogue.checked },
        recipes,
      );
    } catch (e) {
      toast(message(e), true);
      return;
    }
    const button = byId<HTMLButtonElement>("btn-probe");
    const cancel = byId<HTMLButtonElement>("btn-probe-cancel");
    button.disabled = true;
    running = new AbortController();
    cancel.disabled = false;
    progress.textContent = "probing the relying party…";
    try {
      // Live progress: the app's probe-progress events, or the console's event stream.
      last = await api.probe(options, (p) => (progress.textContent = progressText(p)), running.signal);
      progress.textContent = probeSummary(last);
      renderResults(last);
    } catch (e) {
      progress.textContent = "";
      toast(message(e), true);
    } finally {
      button.disabled = false;
      cancel.disabled = true;
      running = null;
    }
  };
  let running: AbortController | null = null;
  root.append(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Relying party" }),
        h("label", {}, "URL ({token} is replaced)", url),
        h("label", {}, "…or command (exit 0 = accepted)", exec),
        h("label", { class: "check" }, shell, "Run the command with sh -c"),
        h("label", {}, "Headers (one per line)", headers),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", { text: "Declared policy and generated tokens" }),
        h("label", {}, "Accepted audiences", audiences),
        h("label", {}, "sub patterns (one per line)", subLike),
        h("label", {}, "Claim conditions (KEY=PATTERN, one per line)", claims),
        h("div", { class: "row" }, h("label", {}, "Leeway (s)", leeway), h("label", {}, "Generated tokens (0: none)", fuzz), h("label", {}, "Seed", seed)),
        h("label", { class: "check" }, noCatalogue, "Skip the catalogue and the policy-boundary cases"),
        h("div", { class: "row" }, h("label", {}, "Load recipes (.toml)", recipeFiles), recipeNote),
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h(
        "div",
        { class: "row" },
        h("button", { id: "btn-probe", class: "primary", onclick: run }, "Run probe"),
        h("button", { id: "btn-probe-cancel", disabled: true, title: "Stop the running probe (the console's probes only)", onclick: () => running?.abort() }, "Cancel"),
        h("button", { id: "btn-probe-json", onclick: () => last && copy(JSON.stringify(last.json, null, 2), "JSON report") }, "Copy JSON"),
        h("button", { id: "btn-probe-junit", onclick: () => last && copy(last.junit, "JUnit XML") }, "Copy JUnit"),
      ),
      progress,
    ),
    h("div", { class: "panel" }, h("h2", { text: "Findings" }), findings),
    h("div", { class: "panel" }, h("h2", { text: "Results by family" }), table),
  );
}
