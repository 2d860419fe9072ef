import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Status } from "../src/api";
import { status } from "./fixtures";

// The store talks to the Rust side only through api.status; each test gets a fresh store.
const apiStatus = vi.fn<() => Promise<Status>>();
vi.mock("../src/api", async (orig) => ({ ...(await orig<typeof import("../src/api")>()), api: { status: () => apiStatus() } }));

async function store() {
  vi.resetModules();
  return import("../src/state");
}

// (Braces: a function returned by beforeEach would be run as its teardown.)
beforeEach(() => {
  apiStatus.mockReset();
});

describe("status store", () => {
  it("tells listeners in order, and a late listener at once", async () => {
    const st = await store();
    expect(st.currentStatus()).toBeNull();
    const seen: string[] = [];
    st.onStatus((s) => seen.push(`a:${s.running}`));
    st.onStatus((s) => seen.push(`b:${s.running}`));
    expect(seen).toEqual([]);
    st.setStatus(status({ running: false }));
    expect(seen).toEqual(["a:false", "b:false"]);
    st.onStatus((s) => seen.push(`late:${s.running}`));
    expect(seen).toEqual(["a:false", "b:false", "late:false"]);
    expect(st.currentStatus()?.running).toBe(false);
  });
  it("refresh stores the issuer's answer", async () => {
    const st = await store();
    apiStatus.mockResolvedValue(status());
    const seen = vi.fn();
    st.onStatus(seen);
    await st.refresh();
    expect(seen).toHaveBeenCalledTimes(1);
    expect(st.currentStatus()?.server?.base_url).toBe("https://localhost:8443");
  });
  it("refresh reports a failure to the error listeners and keeps the last status", async () => {
    const st = await store();
    st.setStatus(status());
    apiStatus.mockRejectedValue("command status not found");
    const errors: string[] = [];
    st.onStatusError((m) => errors.push(m));
    await expect(st.refresh()).resolves.toBeUndefined();
    expect(errors).toEqual(["command status not found"]);
    expect(st.currentStatus()?.running).toBe(true);
  });
  it("words the badge", async () => {
    const { badge } = await store();
    expect(badge(status())).toEqual({ text: "running on https://localhost:8443", className: "badge ok" });
    expect(badge(status({ running: false, server: null, error: "port in use" }))).toEqual({ text: "stopped: error", className: "badge bad" });
    expect(badge(status({ running: false, server: null }))).toEqual({ text: "stopped", className: "badge bad" });
  });
});
