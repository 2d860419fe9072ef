// The Policies screen's rendering, as data: the request the form sends, the access table's rows
// and colours, the boundary tokens with those that get in first and highlighted, the findings'
// order and text, the verdict, and where a refused policy's error points.
import { describe, expect, it } from "vitest";
import type { PolicyCheckReport, PolicyFinding } from "../src/api";
import { EXAMPLE_PIPELINES, EXAMPLE_POLICIES } from "../src/lib/examples";
import {
  accessRows,
  allowedCell,
  boundaryRows,
  checkRequest,
  errorLine,
  errorTarget,
  findingView,
  lineSpan,
  sortedFindings,
  verdictLine,
} from "../src/screens/policies";

const access = (over: Partial<PolicyCheckReport["access"][number]>): PolicyCheckReport["access"][number] => ({
  step: "Build and test",
  location: "pipelines.default[0]",
  branch: null,
  environment: null,
  allowed: true,
  reason: "Statement[0] allows",
  decided_by: "Statement[0]",
  unexpected: false,
  ...over,
});
const boundary = (over: Partial<PolicyCheckReport["boundary"][number]>): PolicyCheckReport["boundary"][number] => ({
  token: "in scope",
  change: "nothing",
  allowed: true,
  why: "Statement[0] allows",
  expected: true,
  unexpected: false,
  claims: {},
  ...over,
});
const finding = (over: Partial<PolicyFinding>): PolicyFinding => ({ id: "aud-needs-for-any-value", severity: "info", message: "aud may be a list", fix: "ForAnyValue:StringEquals", ...over });
const report = (over: Partial<PolicyCheckReport> = {}): PolicyCheckReport => ({
  kind: "aws",
  scope: { issuer: null, workspace_uuid: null, repository_uuid: null, environment_uuids: [], branches: [], audiences: [] } as unknown as PolicyCheckReport["scope"],
  access: [],
  boundary: [],
  findings: [],
  failed: false,
  notes: [],
  ...over,
});

describe("policies: the request", () => {
  it("sends blank kind, pipelines and workspace as null", () => {
    expect(checkRequest("{}", "", "  \n", "")).toEqual({ policy: "{}", kind: null, pipelines: null, workspace: null });
    expect(checkRequest("{}", "vault", "pipelines: {}", "acme")).toEqual({ policy: "{}", kind: "vault", pipelines: "pipelines: {}", workspace: "acme" });
  });
  it("refuses an empty policy and an unknown kind, naming the field", () => {
    expect(() => checkRequest(" \n", "", "", "")).toThrow(/^policy: paste or load/);
    expect(() => checkRequest("{}", "ldap", "", "")).toThrow(/^kind: unknown kind "ldap"/);
  });
});

describe("policies: the access table", () => {
  const r = report({
    access: [
      access({}),
      access({ step: "Deploy to production", branch: "main", environment: "Production", allowed: false, reason: "explicit deny: Statement[1]" }),
      access({ step: "Check a pull request", branch: "**", allowed: true, unexpected: true }),
    ],
  });
  it("has a row per step: step, branch, environment, access, why", () => {
    expect(accessRows(r).map((row) => row.cells.map((c) => c.text))).toEqual([
      ["Build and test", "(any)", "-", "allowed", "Statement[0] allows"],
      ["Deploy to production", "main", "Production", "denied", "explicit deny: Statement[1]"],
      ["Check a pull request", "**", "-", "ALLOWED (should not)", "Statement[0] allows"],
    ]);
  });
  it("colours allowed green, denied red, and marks a step that gets in but should not", () => {
    const rows = accessRows(r);
    expect(rows.map((row) => row.class)).toEqual(["allowed", "denied", "denied unexpected"]);
    expect(rows.map((row) => row.cells[3].class)).toEqual(["access-allowed", "access-denied", "access-unexpected"]);
    expect(rows.map((row) => row.key)).toEqual(["Build and test", "Deploy to production", "Check a pull request"]);
    expect(rows[0].cells[1].class).toBe("muted");
    expect(rows[1].cells[1].class).toBeUndefined();
  });
  it("the allowed cell alone", () => {
    expect(allowedCell(false, false)).toEqual({ text: "denied", class: "access-denied" });
    expect(allowedCell(false, true)).toEqual({ text: "denied", class: "access-denied" });
  });
});

describe("policies: boundary tokens", () => {
  const r = report({
    boundary: [
      boundary({ token: "other repository", allowed: false, expected: false, why: "implicit deny" }),
      boundary({ token: "in scope" }),
      boundary({ token: "other branch", allowed: true, expected: false, unexpected: true }),
      boundary({ token: "extra audience", allowed: true, expected: null }),
    ],
  });
  it("lists every token, those meant to be kept out that get in first, then the others that get in", () => {
    expect(boundaryRows(r).map((row) => row.key)).toEqual(["other branch", "in scope", "extra audience", "other repository"]);
  });
  it("highlights those that get in, the unexpected ones as such", () => {
    expect(boundaryRows(r).map((row) => row.class)).toEqual(["gets-in unexpected", "gets-in", "gets-in", "kept-out"]);
  });
  it("says whether each should get in, blank when the policy does not say", () => {
    expect(boundaryRows(r).map((row) => row.cells[3].text)).toEqual(["no", "yes", "-", "no"]);
    expect(boundaryRows(r)[2].cells[3].class).toBe("muted");
  });
});

describe("policies: findings", () => {
  it("most severe first, then by line, then by id", () => {
    const fs = [
      finding({ id: "b", severity: "warning", line: 3 }),
      finding({ id: "z", severity: "info" }),
      finding({ id: "a", severity: "error", line: 12 }),
      finding({ id: "c", severity: "warning", line: 2 }),
      finding({ id: "a", severity: "warning", line: 3 }),
    ];
    expect(sortedFindings(fs).map((f) => `${f.severity}:${f.id}`)).toEqual(["error:a", "warning:c", "warning:a", "warning:b", "info:z"]);
    expect(fs[0].id).toBe("b");
  });
  it("shows the severity and id, where, the message and the fix", () => {
    expect(findingView(finding({ at: "Statement[0] StringEquals aud", line: 10 }))).toEqual({
      class: "finding info",
      head: "info aud-needs-for-any-value",
      where: "Statement[0] StringEquals aud, line 10",
      message: "aud may be a list",
      fix: "Fix: ForAnyValue:StringEquals",
    });
    expect(findingView(finding({ line: 7 })).where).toBe("line 7");
    expect(findingView(finding({ at: "Statement[2]" })).where).toBe("Statement[2]");
    expect(findingView(finding({})).where).toBeNull();
  });
});

describe("policies: the verdict", () => {
  it("counts the steps that get in, the leaks and the errors", () => {
    const r = report({
      access: [access({}), access({ allowed: false })],
      boundary: [boundary({ unexpected: true })],
      findings: [finding({ severity: "error" }), finding({})],
      failed: true,
    });
    expect(verdictLine(r, true)).toEqual({ text: "FAIL: aws (detected): 1 of 2 steps get in, 1 boundary token(s) get in that should not, 1 error finding(s)", class: "verdict fail" });
    expect(verdictLine(report({ kind: "vault" }), false)).toEqual({ text: "PASS: vault: no steps (no pipelines file), 0 boundary token(s) get in that should not, 0 error finding(s)", class: "verdict pass" });
  });
});

describe("policies: a refused check", () => {
  it("points at the last line the core names, the member's rather than its statement's", () => {
    expect(errorLine("policy: Statement[0] (Sid S) at line 4: line 11: unknown condition operator `X`")).toBe(11);
    expect(errorLine("policy: invalid JSON: expected value at line 3 column 1")).toBe(3);
    expect(errorLine("kind: unknown kind `ldap`")).toBeNull();
    expect(errorLine("pipelines: bitbucket-pipelines.yml: line 0")).toBeNull();
  });
  it("selects exactly that line, clamped to the text", () => {
    const text = "{\n  \"Version\": \n}";
    expect(lineSpan(text, 2)).toEqual([2, 15]);
    expect(text.slice(...lineSpan(text, 2))).toBe('  "Version": ');
    expect(text.slice(...lineSpan(text, 1))).toBe("{");
    expect(text.slice(...lineSpan(text, 99))).toBe("}");
  });
  it("shows a pipelines error under the pipelines file, anything else under the policy", () => {
    expect(errorTarget("pipelines: bitbucket-pipelines.yml: line 3: ...")).toBe("pol-pipelines");
    expect(errorTarget("policy: invalid JSON")).toBe("pol-text");
    expect(errorTarget("kind: unknown kind")).toBe("pol-text");
  });
});

describe("policies: the examples", () => {
  it("bundles the example pipelines and every example policy as JSON", () => {
    expect(EXAMPLE_PIPELINES).toContain("pipelines:");
    expect(EXAMPLE_PIPELINES).toContain("deployment: Production");
    expect(EXAMPLE_POLICIES.length).toBeGreaterThanOrEqual(5);
    for (const e of EXAMPLE_POLICIES) expect(() => JSON.parse(e.text), e.name).not.toThrow();
  });
});
