import { describe, expect, it } from "vitest";
import type { Finding, ProbeReport, ProbeRow } from "../src/api";
import { fileName } from "../src/lib/dom";
import {
  blankProbeForm,
  exploitText,
  familyHeading,
  answerText,
  findingsCount,
  findingsNote,
  findingView,
  groupRows,
  probeCells,
  probeColumns,
  probeOptions,
  probeSummary,
  progressText,
  recipesNote,
  sortFindings,
  verdictClass,
  wholeNumber,
} from "../src/screens/probe";

const row = (over: Partial<ProbeRow>): ProbeRow => ({ case: "c", family: "identity", expected: "refuse", observed: "refused", verdict: "pass", severity: null, exploitable_by: "nobody", exploit: "", attacker_branch: null, reference: "", detail: "", ...over });
const report = (over: Partial<ProbeReport> = {}): ProbeReport => ({
  baseline: "baseline accepted",
  rows: [],
  findings: [],
  fuzz: null,
  summary: { total: 0, passed: 0, failed: 0, skipped: 0, findings: 0, exploitable: 0, hygiene: 0 },
  junit: "",
  json: null,
  ...over,
});
const finding = (over: Partial<Finding> = {}): Finding => ({
  id: "fuzz-1",
  kind: "accepted",
  severity: "policy",
  exploitable_by: "branch_pusher",
  exploit: 'push a branch named "main-evil" and run a step with `oidc: true`',
  attacker_branch: "main-evil",
  difference: ['claims.branchName = "main-evil"'],
  validator: "condition:branchName: fails Like(\"main\")",
  detail: "HTTP 200",
  occurrences: 3,
  reproduce: "stepmint mint --claims '{\"branchName\":\"main-evil\"}'",
  recipe: 'name = "fuzz-1"\n',
  ...over,
});

describe("probe: the options", () => {
  it("sends blank URL and command as null, nothing declared, no generated tokens", () => {
    expect(probeOptions({ ...blankProbeForm, url: "  " })).toEqual({
      url: null,
      exec: null,
      shell: false,
      headers: [],
      audiences: [],
      sub_like: [],
      claims: [],
      leeway: null,
      fuzz: null,
      seed: 1,
      no_catalogue: false,
      recipes: [],
    });
  });
  it("splits headers on lines only, keeping their commas, and audiences on both", () => {
    const o = probeOptions({ ...blankProbeForm, url: " https://rp/x ", headers: "Authorization: Bearer {token}\n\nAccept: a/b, c/d\n", audiences: "a, b\nc" });
    expect(o.url).toBe("https://rp/x");
    expect(o.exec).toBeNull();
    expect(o.headers).toEqual(["Authorization: Bearer {token}", "Accept: a/b, c/d"]);
    expect(o.audiences).toEqual(["a", "b", "c"]);
  });
  it("takes sub patterns and claim conditions one a line, commas kept", () => {
    const o = probeOptions({ ...blankProbeForm, subLike: "{ws}:{repo}:*\r\n\n{ws}:{a,b}:*", claims: " branchName = main \n\nteam=qa,dev" });
    expect(o.sub_like).toEqual(["{ws}:{repo}:*", "{ws}:{a,b}:*"]);
    expect(o.claims).toEqual(["branchName=main", "team=qa,dev"]);
  });
  it("refuses a claim condition without a key", () => {
    expect(() => probeOptions({ ...blankProbeForm, claims: "=main" })).toThrow(/KEY=PATTERN/);
    expect(() => probeOptions({ ...blankProbeForm, claims: "branchName" })).toThrow(/KEY=PATTERN/);
  });
  it("reads leeway, generated tokens and seed as whole numbers; 0 generated tokens is none", () => {
    const o = probeOptions({ ...blankProbeForm, leeway: "0", fuzz: " 300 ", seed: "42" });
    expect([o.leeway, o.fuzz, o.seed]).toEqual([0, 300, 42]);
    expect(probeOptions({ ...blankProbeForm, fuzz: "0" }).fuzz).toBeNull();
    expect(probeOptions({ ...blankProbeForm, fuzz: "", seed: "" })).toMatchObject({ fuzz: null, seed: null });
  });
  it("says which number field is wrong", () => {
    expect(() => probeOptions({ ...blankProbeForm, leeway: "-1" })).toThrow(/^leeway: "-1" is not a whole number/);
    expect(() => probeOptions({ ...blankProbeForm, fuzz: "1.5" })).toThrow(/^generated tokens: /);
    expect(() => probeOptions({ ...blankProbeForm, seed: "1e3" })).toThrow(/^seed: /);
    expect(() => wholeNumber("99999999999999999999", "seed")).toThrow(/seed/);
    expect(wholeNumber("  ", "seed")).toBeNull();
  });
  it("passes the checkboxes and the loaded recipes through", () => {
    const o = probeOptions({ ...blankProbeForm, exec: " ./verify {token} ", shell: true, noCatalogue: true }, ['name = "a"']);
    expect(o).toMatchObject({ exec: "./verify {token}", shell: true, no_catalogue: true, recipes: ['name = "a"'] });
  });
  it("counts and names the loaded recipes", () => {
    expect(recipesNote([])).toBe("no recipes loaded");
    expect(recipesNote(["a.toml"])).toBe("1 recipe loaded: a.toml");
    expect(recipesNote(["a.toml", "b.toml"])).toBe("2 recipes loaded: a.toml, b.toml");
  });
});

describe("probe: live progress", () => {
  it("reads each phase", () => {
    expect(progressText({ phase: "cases", done: 12, total: 80, findings: 0, rate: 0 })).toBe("cases: 12/80 sent");
    expect(progressText({ phase: "fuzz", done: 120, total: 300, findings: 2, rate: 849.6 })).toBe("fuzz: 120/300 tokens, 850/s, 2 accepted hostile");
    expect(progressText({ phase: "fuzz", done: 120, total: null, findings: 0, rate: 10 })).toBe("fuzz: 120 tokens, 10/s, 0 accepted hostile");
    expect(progressText({ phase: "shrink", done: 1, total: null, findings: 1, rate: 0 })).toBe("shrinking: 1 disagreement shrunk, 1 distinct finding");
    expect(progressText({ phase: "shrink", done: 3, total: null, findings: 2, rate: 0 })).toBe("shrinking: 3 disagreements shrunk, 2 distinct findings");
  });
});

describe("probe: the results", () => {
  it("summarises the counts, and the findings when there are some", () => {
    const r = report({ summary: { total: 40, passed: 37, failed: 2, skipped: 1, findings: 0, exploitable: 0, hygiene: 0 } });
    expect(probeSummary(r)).toBe("baseline accepted; 40 cases: 37 as expected, 2 wrongly accepted or refused, 1 skipped");
    expect(probeSummary({ ...r, findings: [finding(), finding({ id: "fuzz-2" })] })).toMatch(/1 skipped; 2 findings from generated tokens \(2 hostile accepted\)$/);
    expect(probeSummary({ ...r, summary: { ...r.summary, exploitable: 1, hygiene: 2 } })).toMatch(/; 1 exploitable, 2 hygiene \(exploitable by nobody\)$/);
  });
  it("colours the verdict cell by verdict, names a wrongly accepted row's severity, and shows anything unknown as skip", () => {
    const r = row({ case: "alg-none", family: "algorithm", observed: "accepted", verdict: "fail", severity: "bypass", exploitable_by: "anyone", reference: "RFC 8725" });
    expect(probeCells(r)).toEqual([{ text: "alg-none", class: "mono" }, { text: "refuse" }, { text: "accepted" }, { text: "", class: "mono answer" }, { text: "fail (bypass)", class: "fail" }, { text: "anyone" }, { text: "RFC 8725" }]);
    expect(probeCells({ ...r, verdict: "pass", severity: null })[5]).toEqual({ text: "" });
    const pushed = row({ verdict: "fail", severity: "policy", exploitable_by: "branch_pusher", attacker_branch: "main-evil" });
    expect(probeCells(pushed)[5]).toEqual({ text: 'anyone who can push a branch: push "main-evil"' });
    expect(probeCells({ ...r, verdict: "pass", severity: null })[4]).toEqual({ text: "pass", class: "pass" });
    expect(probeCells({ ...r, verdict: "strict", severity: null })[4]).toEqual({ text: "strict", class: "strict" });
    expect(probeCells({ ...r, verdict: "error", severity: null })[4]).toEqual({ text: "error", class: "error" });
    expect(verdictClass("weird")).toBe("skip");
  });
  it("shows the relying party's answer in its own column, on one line and short", () => {
    expect(probeColumns.length).toBe(probeCells(row({})).length);
    expect(probeColumns[3]).toBe("relying party's answer");
    expect(probeCells(row({ detail: "HTTP 401: invalid\n  token" }))[3]).toEqual({ text: "HTTP 401: invalid token", class: "mono answer" });
    expect(probeCells(row({ detail: "exit 1: go-jose: error" }))[3].text).toBe("exit 1: go-jose: error");
    const long = answerText(`HTTP 200: ${"x".repeat(500)}`);
    expect(long.length).toBe(120);
    expect(long.endsWith("…")).toBe(true);
  });
  it("counts the findings once: the summary line and the findings panel say the same number, and what it counts", () => {
    // 8 hostile tokens accepted and 2 genuine ones refused: the server's summary counts only the 8.
    const fs = [...Array.from({ length: 8 }, (_, i) => finding({ id: `a-${i}` })), ...Array.from({ length: 2 }, (_, i) => finding({ id: `r-${i}`, kind: "false_refusal" }))];
    const r = report({ fuzz: { sent: 300, rate: 10, seed: 1 }, findings: fs, summary: { total: 1, passed: 1, failed: 0, skipped: 0, findings: 8, exploitable: 8, hygiene: 0 } });
    const counts = (text: string) => [...text.matchAll(/(\d+) findings?\b/g)].map((m) => m[1]);
    expect(counts(probeSummary(r))).toEqual(["10"]);
    expect(counts(findingsNote(r))).toEqual(["10"]);
    expect(findingsCount(fs)).toBe("10 findings from generated tokens (8 hostile accepted, 2 genuine refused)");
    expect(findingsCount([finding()])).toBe("1 finding from generated tokens (1 hostile accepted)");
  });
  it("groups by family: the baseline first, then families with failures, failures on top", () => {
    const rows = [
      row({ case: "baseline", family: "baseline", expected: "accept", observed: "accepted" }),
      row({ case: "t1", family: "time" }),
      row({ case: "i1", family: "identity" }),
      row({ case: "i2", family: "identity", verdict: "strict" }),
      row({ case: "b1", family: "policy:claim:branchName" }),
      row({ case: "b2", family: "policy:claim:branchName", verdict: "fail", severity: "hygiene", exploitable_by: "nobody" }),
      row({ case: "t2", family: "time", verdict: "skip" }),
      row({ case: "e1", family: "parser", verdict: "error" }),
      row({ case: "b3", family: "policy:claim:branchName", verdict: "fail", severity: "policy", exploitable_by: "branch_pusher" }),
      row({ case: "p1", family: "parser", verdict: "fail", severity: "hygiene", exploitable_by: "nobody" }),
    ];
    const groups = groupRows(rows);
    // Exploitable failures lead; a family whose only failure is hygiene comes after too-strict and no-answer ones.
    expect(groups.map((g) => g.family)).toEqual(["baseline", "policy:claim:branchName", "identity", "parser", "time"]);
    expect(groups[1].rows.map((r) => r.case)).toEqual(["b3", "b2", "b1"]);
    expect(groups[3].rows.map((r) => r.case)).toEqual(["e1", "p1"]);
    expect(groups[2].rows.map((r) => r.case)).toEqual(["i2", "i1"]);
    expect(groups[4].rows.map((r) => r.case)).toEqual(["t1", "t2"]);
    expect(groups[1].counts).toEqual({ pass: 1, fail: 2 });
    expect(groups[3].counts).toEqual({ error: 1, fail: 1 });
    // Every row is kept, once.
    expect(groups.flatMap((g) => g.rows)).toHaveLength(rows.length);
  });
  it("keeps the baseline first even when it fails", () => {
    const groups = groupRows([row({ family: "algorithm", verdict: "fail" }), row({ case: "baseline", family: "baseline", verdict: "strict" })]);
    expect(groups.map((g) => g.family)).toEqual(["baseline", "algorithm"]);
  });
  it("heads a family with its counts and its worst verdict's class", () => {
    const [g] = groupRows([row({ family: "policy:aud" }), row({ family: "policy:aud", verdict: "fail" }), row({ family: "policy:aud", verdict: "skip" }), row({ family: "policy:aud" })]);
    expect(familyHeading(g)).toEqual({ text: "policy:aud: 4 cases, 1 fail, 2 pass, 1 skip", class: "family fail" });
    const [clean] = groupRows([row({ family: "time" })]);
    expect(familyHeading(clean)).toEqual({ text: "time: 1 case, 1 pass", class: "family pass" });
  });
});

describe("probe: who could exploit it", () => {
  it("names who, and the branch a pusher would push", () => {
    expect(exploitText("anyone", null)).toBe("anyone");
    expect(exploitText("branch_pusher", "release/../main")).toBe('anyone who can push a branch: push "release/../main"');
    expect(exploitText("branch_pusher", null)).toBe("anyone who can push a branch");
    expect(exploitText("nobody", "x")).toBe("nobody (hygiene)");
    expect(exploitText(null, null)).toBe("");
  });
});

describe("probe: findings", () => {
  it("lists accepted hostile tokens before false refusals, those the most people could exploit first", () => {
    const fs = [
      finding({ id: "a", kind: "false_refusal", severity: "policy" }),
      finding({ id: "b", severity: "hygiene", exploitable_by: "nobody" }),
      finding({ id: "c", severity: "policy", exploitable_by: "branch_pusher" }),
      finding({ id: "d", severity: "bypass", exploitable_by: "anyone" }),
      finding({ id: "e", severity: "policy", exploitable_by: "any_workspace" }),
    ];
    expect(sortFindings(fs).map((f) => f.id)).toEqual(["d", "e", "c", "b", "a"]);
    expect(fs[0].id).toBe("a");
  });
  it("shows the minimal difference, the validator's reason, the relying party's answer and the command", () => {
    const v = findingView(finding());
    expect(v.title).toBe("fuzz-1 · policy · exploitable by anyone who can push a branch · accepted by the relying party, refused by the validator · 3 generated tokens");
    expect(v.class).toBe("finding sev-policy");
    expect(v.difference).toEqual(['claims.branchName = "main-evil"']);
    expect(v.facts.map(([k]) => k)).toEqual(["exploit", "branch to push", "validator", "relying party", "reproduce"]);
    expect(v.facts[1][1]).toBe("main-evil");
    expect(v.facts[3][1]).toBe("HTTP 200");
    const hygiene = findingView(finding({ severity: "hygiene", exploitable_by: "nobody", exploit: "Bitbucket sends no `nbf`", attacker_branch: null }));
    expect(hygiene.title).toContain("· exploitable by nobody (hygiene) ·");
    expect(hygiene.facts.map(([k]) => k)).toEqual(["exploit", "validator", "relying party", "reproduce"]);
  });
  it("says what a false refusal is, and leaves out empty facts", () => {
    const v = findingView(finding({ kind: "false_refusal", occurrences: 1, detail: " ", difference: [] }));
    expect(v.title).not.toContain("exploitable");
    expect(v.title).toContain("refused by the relying party, accepted by the validator · 1 generated token");
    expect(v.class).toBe("finding sev-strict");
    expect(v.difference).toEqual(["(the genuine token itself)"]);
    expect(v.facts.map(([k]) => k)).toEqual(["validator", "reproduce"]);
  });
  it("explains an empty findings panel", () => {
    expect(findingsNote(null)).toMatch(/^Findings come from generated tokens/);
    expect(findingsNote(report())).toMatch(/^No generated tokens were sent/);
    expect(findingsNote(report({ fuzz: { sent: 300, rate: 849.6, seed: 1 } }))).toBe("300 generated tokens (seed 1, 850/s): the relying party agreed with the reference validator on every one.");
    expect(findingsNote(report({ fuzz: { sent: 300, rate: 10, seed: 7 }, findings: [finding(), finding({ id: "fuzz-2" })] }))).toMatch(/: 2 findings from generated tokens \(2 hostile accepted\), each shrunk/);
  });
  it("saves a finding's recipe under a safe file name", () => {
    expect(fileName("fuzz-1", ".toml")).toBe("fuzz-1.toml");
    expect(fileName("../etc/passwd", ".toml")).toBe("etc-passwd.toml");
    expect(fileName("my recipe.toml", ".toml")).toBe("my-recipe.toml");
    expect(fileName("  ", ".toml")).toBe("recipe.toml");
  });
});
