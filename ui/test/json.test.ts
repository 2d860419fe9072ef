import { describe, expect, it } from "vitest";
import { lineColumn, merge, parseConditions, parseObject, splitLines, splitList } from "../src/lib/json";

describe("parseObject", () => {
  it("accepts objects and treats blank as {}", () => {
    expect(parseObject('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseObject("  \n")).toEqual({ ok: true, value: {} });
  });
  it("refuses arrays and scalars", () => {
    for (const t of ["[1]", "3", '"x"', "null"]) {
      const p = parseObject(t);
      expect(p.ok).toBe(false);
    }
  });
  it("reports line and column of a syntax error", () => {
    const p = parseObject('{\n  "a": 1,\n  "b": }');
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.line).toBe(3);
      expect(p.column).toBeGreaterThan(3);
    }
  });
});

describe("merge", () => {
  it("replaces, adds and removes with null", () => {
    const base = { iss: "x", aud: "a", branchName: "main" };
    expect(merge(base, { aud: ["a", "b"], branchName: null, team: "qa" })).toEqual({ iss: "x", aud: ["a", "b"], team: "qa" });
    expect(base.branchName).toBe("main");
  });
});

describe("lists and conditions", () => {
  it("splits on commas and new lines", () => {
    expect(splitList(" a, b\n\nc ,")).toEqual(["a", "b", "c"]);
  });
  it("splits one-a-line fields on new lines only, commas kept, CRLF and blanks dropped", () => {
    expect(splitLines(" a, b\r\n\n c \n")).toEqual(["a, b", "c"]);
  });
  it("parses KEY=PATTERN and rejects lines without a key", () => {
    expect(parseConditions("branchName=release/*\n repositoryUuid = {abc} ")).toEqual([
      { claim: "branchName", like: "release/*" },
      { claim: "repositoryUuid", like: "{abc}" },
    ]);
    expect(() => parseConditions("=x")).toThrow(/KEY=PATTERN/);
  });
  it("computes line and column", () => {
    expect(lineColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
  });
});
