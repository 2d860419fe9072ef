// The small screens' logic, and the property the split was for: importing a screen runs nothing.
// The environment is node, so a module that touched `document` or `window` on import would throw.
import { describe, expect, it } from "vitest";
import type { HistoryEntry, KeyInfo, RequestRecord } from "../src/api";
import { historyCells, originText } from "../src/screens/history";
import { consoleNote, keyState, listenArgs } from "../src/screens/issuer";
import { bucketRequests, faultText, logCells, shownInLog, timelineRow } from "../src/screens/log";

describe("importing", () => {
  it("any screen, the state or the navigation touches no DOM", async () => {
    for (const m of ["issuer", "crafter", "inspector", "log", "history", "probe", "faults", "policies"]) await import(`../src/screens/${m}.ts`);
    await import("../src/state");
    await import("../src/nav");
    expect(typeof document).toBe("undefined");
  });
  it("main.ts does boot (so the check above could fail)", async () => {
    await expect(import("../src/main")).rejects.toThrow(/window is not defined/);
  });
});

describe("log rows", () => {
  const rec: RequestRecord = { id: 1, time: "12:00:00", peer: null, method: "GET", path: "/keys.json", status: 200, user_agent: null, endpoint: "jwks", workspace: "stepmint", duration_ms: 1.25 };
  it("fill the columns, blanks for what is unknown", () => {
    expect(logCells(rec).map((c) => c.text)).toEqual(["12:00:00", "", "GET", "/keys.json", "200", "1.3", "", ""]);
  });
  it("say which fault a faulted request met", () => {
    const faulted = { ...rec, status: 500, fault: '{"status":500}', fault_summary: "status 500" };
    expect(logCells(faulted)[7]).toEqual({ text: "status 500", class: "fault" });
    expect(faultText({ fault: '{"hang":true}', fault_summary: "hang" })).toBe("hang");
    expect(faultText({ fault: '{"latency_ms":[2000]}', fault_summary: "delay 2s" })).toBe("delay 2s");
    // An older server sent only the fault itself.
    expect(faultText({ fault: '{"status":503}' })).toBe('{"status":503}');
    expect(logCells(rec)[7]).toEqual({ text: "", class: undefined });
  });
  it("mark the status pass below 400 and fail from 400", () => {
    expect(logCells({ ...rec, status: 302 })[4].class).toBe("pass");
    expect(logCells({ ...rec, status: 400 })[4].class).toBe("fail");
    expect(logCells({ ...rec, status: 503 })[4].class).toBe("fail");
  });
});

describe("history rows", () => {
  it("show the date and call a token without a case genuine", () => {
    const e: HistoryEntry = { id: 3, time: 1893456000, workspace: "acme", summary: "{ws}:{repo}", token: "t" };
    expect(historyCells(e)).toEqual([{ text: "2030-01-01T00:00:00Z" }, { text: "acme" }, { text: "genuine" }, { text: "{ws}:{repo}", class: "mono" }, { text: "" }]);
    expect(historyCells({ ...e, case: "alg-none" })[2].text).toBe("alg-none");
  });
  it("say where each token was minted: console, app, CLI or control API", () => {
    const e: HistoryEntry = { id: 3, time: 1893456000, workspace: "acme", summary: "s", token: "t", origin: "cli" };
    expect(historyCells(e)[4]).toEqual({ text: "CLI" });
    expect(historyCells({ ...e, origin: "api" })[4].text).toBe("control API");
    expect(["console", "app"].map((o) => originText(o as HistoryEntry["origin"]))).toEqual(["console", "app"]);
  });
});

describe("issuer", () => {
  it("leaves a blank address or port to the saved settings", () => {
    expect(listenArgs(" 0.0.0.0 ", "0")).toEqual(["0.0.0.0", 0]);
    expect(listenArgs("  ", "")).toEqual([undefined, undefined]);
  });
  it("shows until when a retiring key stays", () => {
    const k: KeyInfo = { kid: "k1", alg: "RS256", created: 0, published: true, state: "active" };
    expect(keyState(k)).toBe("active");
    expect(keyState({ ...k, state: "retiring", until: 1893456000 })).toBe("retiring until 2030-01-01T00:00:00Z");
  });
});

describe("log filter", () => {
  it("shows relying-party traffic, not the control API or the console's own page", () => {
    expect(shownInLog({ endpoint: "jwks", path: "/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json" })).toBe(true);
    expect(shownInLog({ endpoint: "attacker", path: "/_stepmint/v1/attacker/a/jwks.json" })).toBe(true);
    expect(shownInLog({ endpoint: "other", path: "/favicon.ico" })).toBe(true);
    expect(shownInLog({ endpoint: "other", path: "/_stepmint/uix" })).toBe(true);
    expect(shownInLog({ endpoint: "control", path: "/_stepmint/v1/status" })).toBe(false);
    expect(shownInLog({ endpoint: "other", path: "/_stepmint/ui/assets/index.js" })).toBe(false);
    expect(shownInLog({ endpoint: "other", path: "/_stepmint/ui" })).toBe(false);
  });
});

describe("log timeline", () => {
  const at = (iso: string, over: Partial<RequestRecord> = {}): RequestRecord => ({ id: 1, time: iso, peer: null, method: "GET", path: "/", status: 200, user_agent: null, endpoint: "jwks", workspace: "acme", duration_ms: 1, ...over });
  const now = Date.parse("2030-01-01T00:05:02.000Z");

  it("puts each endpoint in its row, anything unknown in other, the control API nowhere", () => {
    expect(["discovery", "jwks", "attacker", "other", "weird", "control"].map(timelineRow)).toEqual(["discovery", "jwks", "attacker", "other", "other", null]);
  });
  it("buckets per 5 s over the window, the last bucket holding now, by status class", () => {
    const t = bucketRequests(
      [
        at("2030-01-01T00:05:01.000Z"),
        at("2030-01-01T00:05:00.000Z", { status: 304 }),
        at("2030-01-01T00:04:59.999Z", { status: 404 }),
        at("2030-01-01T00:04:58.000Z", { status: 503, endpoint: "discovery" }),
        at("2030-01-01T00:00:05.000Z", { endpoint: "attacker" }),
        at("2030-01-01T00:00:04.999Z"), // before the window
        at("2030-01-01T00:05:05.000Z"), // after it
        at("not a time"),
        at("2030-01-01T00:05:01.000Z", { endpoint: "control" }),
      ],
      now,
    );
    expect(t.end).toBe(Date.parse("2030-01-01T00:05:05.000Z"));
    expect(t.start).toBe(Date.parse("2030-01-01T00:00:05.000Z"));
    expect(t.rows.jwks).toHaveLength(60);
    expect(t.rows.jwks[59]).toEqual({ ok: 2, client: 0, server: 0, fault: 0 });
    expect(t.rows.jwks[58]).toEqual({ ok: 0, client: 1, server: 0, fault: 0 });
    expect(t.rows.discovery[58]).toEqual({ ok: 0, client: 0, server: 1, fault: 0 });
    expect(t.rows.attacker[0].ok).toBe(1);
    const total = (Object.values(t.rows) as { ok: number; client: number; server: number }[][]).flat().reduce((s, b) => s + b.ok + b.client + b.server, 0);
    expect(total).toBe(5);
    expect(t.max).toEqual({ discovery: 1, jwks: 2, attacker: 1, other: 1 });
  });
  it("marks the buckets where requests carried a fault, across rows", () => {
    const t = bucketRequests([at("2030-01-01T00:04:51.000Z", { status: 503, fault: '{"status":503}' }), at("2030-01-01T00:04:52.000Z", { endpoint: "discovery" })], now);
    expect(t.faulted.map((f, i) => (f ? i : -1)).filter((i) => i >= 0)).toEqual([57]);
    expect(t.rows.jwks[57]).toEqual({ ok: 0, client: 0, server: 1, fault: 1 });
    expect(t.rows.discovery[57].fault).toBe(0);
  });
  it("takes other window and bucket sizes", () => {
    const t = bucketRequests([at("2030-01-01T00:05:00.000Z")], now, 60_000, 10_000);
    expect(t.rows.jwks).toHaveLength(6);
    expect(t.rows.jwks[5].ok).toBe(1);
  });
});

describe("web console note", () => {
  it("says the console drives the running server and settings need a restart", () => {
    expect(consoleNote).toMatch(/running `stepmint serve`/);
    expect(consoleNote).toMatch(/restart `stepmint serve`/);
  });
});
