import { describe, expect, it } from "vitest";
import type { Inspection, Report } from "../src/api";
import { policy } from "./fixtures";
import { inspectionNotes, policyFrom, verdictText } from "../src/screens/inspector";

describe("inspector: the policy overrides", () => {
  it("is empty when the form is blank, so the workspace's policy applies", () => {
    expect(policyFrom({ audiences: "", subLike: " \n", leeway: "", conditions: "" })).toEqual({});
  });
  it("carries every filled field", () => {
    expect(policyFrom({ audiences: "api://a\napi://b", subLike: "{*}:{r-1}", leeway: "0", conditions: "branchName=main\n deploymentEnvironmentUuid = {e-1} " })).toEqual({
      audiences: ["api://a", "api://b"],
      sub_like: ["{*}:{r-1}"],
      leeway: 0,
      conditions: [
        { claim: "branchName", like: "main" },
        { claim: "deploymentEnvironmentUuid", like: "{e-1}" },
      ],
    });
  });
  it("refuses a condition without a key", () => {
    expect(() => policyFrom({ audiences: "", subLike: "", leeway: "30", conditions: "main" })).toThrow(/KEY=PATTERN/);
  });
});

describe("inspector: the report", () => {
  const report: Report = { accepted: false, verdict: "refused", reason: "alg none", checks: [] };
  it("words the verdict", () => {
    expect(verdictText({ ...report, accepted: true, verdict: "accepted", reason: undefined })).toBe("ACCEPTED");
    expect(verdictText(report)).toBe("REFUSED: alg none");
    expect(verdictText({ ...report, reason: undefined })).toBe("REFUSED: ");
  });
  it("puts the time claims in words before the decoder's notes", () => {
    const r: Inspection = {
      workspace: "stepmint",
      now: 1000,
      decoded: { header: {}, claims: { iat: 940, exp: 4600 }, signature_len: 256, parts: 3, notes: ["kid is unknown"], raw_header: "{}", raw_payload: "" },
      decode_error: null,
      policy: policy(),
      report,
    };
    expect(inspectionNotes(r)).toEqual(["iat: 1970-01-01T00:15:40Z (issued 1 min ago)", "exp: 1970-01-01T01:16:40Z (expires in 1 h)", "kid is unknown"]);
  });
  it("has no notes for a token that does not decode, or whose claims are not an object", () => {
    const r: Inspection = { workspace: "stepmint", now: 0, decoded: null, decode_error: "not a JWT", policy: policy(), report };
    expect(inspectionNotes(r)).toEqual([]);
    expect(inspectionNotes({ ...r, decoded: { header: {}, claims: [1, 2], signature_len: 0, parts: 3, notes: [], raw_header: "{}", raw_payload: "[1,2]" } })).toEqual([]);
  });
});
