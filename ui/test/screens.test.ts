// The small screens' logic, and the property the split was for: importing a screen runs nothing.
// The environment is node, so a module that touched `document` or `window` on import would throw.
import { describe, expect, it } from "vitest";
import type { HistoryEntry, KeyInfo, RequestRecord } from "../src/api";
import { historyCells } from "../src/screens/history";
import { keyState, listenArgs } from "../src/screens/issuer";
import { logCells } from "../src/screens/log";

describe("importing", () => {
  it("any screen, the state or the navigation touches no DOM", async () => {
    for (const m of ["issuer", "crafter", "inspector", "log", "history", "probe"]) await import(`../src/screens/${m}.ts`);
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
    expect(logCells(rec).map((c) => c.text)).toEqual(["12:00:00", "", "GET", "/keys.json", "200", "1.3", ""]);
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
    expect(historyCells(e)).toEqual([{ text: "2030-01-01T00:00:00Z" }, { text: "acme" }, { text: "genuine" }, { text: "{ws}:{repo}", class: "mono" }]);
    expect(historyCells({ ...e, case: "alg-none" })[2].text).toBe("alg-none");
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
