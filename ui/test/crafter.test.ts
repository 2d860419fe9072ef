import { describe, expect, it } from "vitest";
import type { CaseSummary } from "../src/api";
import { parseObject } from "../src/lib/json";
import { caseInfo, editorError, exportLine, recipeName, stepRequest, type StepForm } from "../src/screens/crafter";

const blank: StepForm = { workspace: "", repo: "", env: "", branch: "", audiences: "", lifetime: "", case: "" };

describe("crafter: the mint request", () => {
  it("leaves blank fields to the issuer's defaults", () => {
    expect(stepRequest(blank, {}, {})).toEqual({
      workspace: undefined,
      repository_uuid: undefined,
      deployment_environment_uuid: undefined,
      branch: undefined,
      audiences: [],
      lifetime: undefined,
      claims: {},
      header: {},
      case: undefined,
    });
  });
  it("trims, splits the audiences and reads the lifetime as a number", () => {
    const form: StepForm = { workspace: "acme", repo: " {r-1} ", env: "{e-1}", branch: "  release/1 ", audiences: "a, b\nc", lifetime: "60", case: "alg-none" };
    expect(stepRequest(form, { team: "qa" }, { typ: "JWT" })).toEqual({
      workspace: "acme",
      repository_uuid: "{r-1}",
      deployment_environment_uuid: "{e-1}",
      branch: "release/1",
      audiences: ["a", "b", "c"],
      lifetime: 60,
      claims: { team: "qa" },
      header: { typ: "JWT" },
      case: "alg-none",
    });
  });
  it("treats a whitespace-only branch as no branch", () => {
    expect(stepRequest({ ...blank, branch: "   " }, {}, {}).branch).toBeUndefined();
  });
});

describe("crafter: texts", () => {
  const c: CaseSummary = { name: "alg-none", family: "algorithm", description: "An unsigned token", expected: "refuse", default_outcome: "refuse", reference: "RFC 8725 3.1", exploitable_by: "anyone", exploit: "forged" };
  it("describes a case, with its rule when it has one", () => {
    expect(caseInfo(c)).toBe("An unsigned token. A strict relying party: refuse. Exploitable by anyone: forged. Reference: RFC 8725 3.1.");
    expect(caseInfo({ ...c, rule: "alg allow-list" })).toBe("An unsigned token. A strict relying party: refuse (alg allow-list). Exploitable by anyone: forged. Reference: RFC 8725 3.1.");
    expect(caseInfo({ ...c, exploitable_by: "same_workspace_repo", exploit: "another repository" })).toContain("Exploitable by same workspace repo: another repository.");
    expect(caseInfo(undefined)).toBe("");
  });
  it("places an editor's error by line and column, and clears it when the JSON parses", () => {
    expect(editorError(parseObject('{\n  "a": }'))).toMatch(/^line 2, column \d+: /);
    expect(editorError(parseObject("[1]"))).toBe("line 1, column 1: must be a JSON object ({ ... })");
    expect(editorError(parseObject('{"a": 1}'))).toBe("");
  });
  it("names a saved recipe \"crafted\" unless told otherwise, and saves it as a .toml file", () => {
    expect(recipeName("  ")).toEqual({ name: "crafted", file: "crafted.toml" });
    expect(recipeName(" branch-prefix ")).toEqual({ name: "branch-prefix", file: "branch-prefix.toml" });
    expect(recipeName("a/b c")).toEqual({ name: "a/b c", file: "a-b-c.toml" });
  });
  it("quotes the token in the export line", () => {
    expect(exportLine("h.p.s")).toBe("export BITBUCKET_STEP_OIDC_TOKEN='h.p.s'");
  });
});
