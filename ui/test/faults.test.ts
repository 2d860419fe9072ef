import { describe, expect, it } from "vitest";
import type { KeyInfo } from "../src/api";
import { fault } from "./fixtures";
import { blankFaultForm, faultCells, faultFromForm, faultSummary, keyStateText, parseLatency, retirable, scenarioLines, seconds } from "../src/screens/faults";

const form = (over: Partial<typeof blankFaultForm>) => ({ ...blankFaultForm, ...over });

describe("fault form", () => {
  it("refuses an empty form with a readable error", () => {
    expect(() => faultFromForm(blankFaultForm)).toThrow(/nothing to inject/);
    expect(() => faultFromForm(form({ latency: "  ", contentType: " " }))).toThrow(/nothing to inject/);
  });
  it("reads a latency as fixed or a range", () => {
    expect(faultFromForm(form({ latency: "200-800" }))).toEqual({ latency_ms: [200, 800] });
    expect(faultFromForm(form({ latency: "250" }))).toEqual({ latency_ms: [250] });
    expect(parseLatency("200 .. 800 ms")).toEqual([200, 800]);
    expect(parseLatency("")).toBeNull();
    expect(() => parseLatency("800-200")).toThrow(/backwards/);
    expect(() => parseLatency("fast")).toThrow(/latency/);
    expect(() => parseLatency("700000")).toThrow(/out of range/);
  });
  it("refuses endings that exclude each other", () => {
    expect(() => faultFromForm(form({ reset: true, hang: true }))).toThrow("reset and hang exclude each other");
    expect(() => faultFromForm(form({ hang: true, truncate: true }))).toThrow(/hang and truncate/);
    expect(faultFromForm(form({ truncate: true }))).toEqual({ truncate: true });
  });
  it("takes a 4xx/5xx status with retry-after and fail-next, and refuses others", () => {
    expect(faultFromForm(form({ status: "503", retryAfter: "5", failNext: "3" }))).toEqual({ status: 503, retry_after: 5, fail_next: 3 });
    expect(() => faultFromForm(form({ status: "200" }))).toThrow(/not a 4xx or 5xx/);
    expect(() => faultFromForm(form({ status: "5O3" }))).toThrow(/not a whole number/);
    expect(() => faultFromForm(form({ retryAfter: "5" }))).toThrow(/retry-after goes with a status/);
    expect(() => faultFromForm(form({ failNext: "0" }))).toThrow(/at least 1/);
  });
  it("sends only the members set, JWKS changes only for the JWKS", () => {
    expect(faultFromForm(form({ nonJson: true, contentType: " text/html ", cacheControl: "no-store", etag: "never-changes", emptyJwks: true, duplicateKid: true }))).toEqual({
      non_json: true, content_type: "text/html", cache_control: "no-store", etag: "never-changes", empty_jwks: true, duplicate_kid: true,
    });
    expect(() => faultFromForm(form({ endpoint: "discovery", emptyJwks: true }))).toThrow(/JWKS only/);
    expect(() => faultFromForm(form({ cacheControl: "a\nb" }))).toThrow(/header value/);
  });
});

describe("fault table", () => {
  it("says a fault in a few words", () => {
    expect(faultSummary({ status: 503, retry_after: 5, latency_ms: [200, 800] })).toBe("status 503, retry-after 5 s, latency 200-800 ms");
    expect(faultSummary({ fail_next: 2 })).toBe("fail next 2 with 503");
    expect(faultSummary({ reset: true, empty_jwks: true, etag: "always-changes" })).toBe("reset, empty JWKS, ETag always-changes");
    expect(faultSummary({})).toBe("(none)");
  });
  it("fills the columns, with what is left of a fail-next", () => {
    expect(faultCells({ workspace: "acme", endpoint: "jwks", fault: fault({ status: 503 }) }).map((c) => c.text)).toEqual(["acme", "jwks", "status 503", ""]);
    expect(faultCells({ workspace: "acme", endpoint: "discovery", fault: fault({ fail_next: 3 }), remaining: 2 })[3].text).toBe("2 left");
  });
});

describe("key lifecycle", () => {
  const k: KeyInfo = { kid: "k1", alg: "RS256", created: 0, published: true, state: "active" };
  it("retires any key but the signing one", () => {
    expect(retirable(k)).toBe(false);
    expect(retirable({ ...k, state: "retiring", until: 1 })).toBe(true);
    expect(retirable({ ...k, state: "staged", published: false })).toBe(true);
    expect(retirable({ ...k, state: "published" })).toBe(true);
  });
  it("shows a key's dates", () => {
    expect(keyStateText({ ...k, state: "retiring", until: 1893456000 })).toBe("retiring until 2030-01-01T00:00:00Z");
    expect(keyStateText({ ...k, state: "staged", publish_at: 1893456000 })).toBe("staged, published at 2030-01-01T00:00:00Z");
    expect(keyStateText(k)).toBe("active");
  });
  it("reads seconds fields", () => {
    expect(seconds("", "overlap")).toBeNull();
    expect(seconds("60", "overlap")).toBe(60);
    expect(() => seconds("1.5", "overlap")).toThrow(/overlap/);
  });
});

describe("scenario lines", () => {
  const rec = (method: string, path: string, workspace: string | null = "acme") => ({
    id: 1, time: "2030-01-01T00:00:00.000Z", peer: null, method, path, status: 0, user_agent: null,
    endpoint: "other" as const, workspace, duration_ms: 0,
  });
  it("keeps the scenario's own events and nothing a client sent", () => {
    expect(scenarioLines([
      rec("EVENT", "scenario at 5 s: jwks fault set"),
      rec("GET", "/scenario at 5 s"),
      rec("EVENT", "something else"),
      rec("EVENT", "scenario at 9 s: key rotated", null),
    ])).toEqual([
      { time: "2030-01-01T00:00:00.000Z", workspace: "acme", what: "scenario at 5 s: jwks fault set" },
      { time: "2030-01-01T00:00:00.000Z", workspace: "", what: "scenario at 9 s: key rotated" },
    ]);
  });
});
