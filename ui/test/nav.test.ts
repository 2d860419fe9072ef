import { afterEach, describe, expect, it, vi } from "vitest";
import { arrowScreen, screens, shortcutScreen } from "../src/nav";

describe("keyboard navigation", () => {
  it("maps Ctrl/Cmd + 1..6 to the tabs in order", () => {
    expect(shortcutScreen("1", true)).toBe("issuer");
    expect(shortcutScreen("6", true)).toBe("probe");
    expect(shortcutScreen("7", true)).toBeUndefined();
    expect(shortcutScreen("0", true)).toBeUndefined();
    expect(shortcutScreen("a", true)).toBeUndefined();
    expect(shortcutScreen("1", false)).toBeUndefined();
  });
  it("moves between tabs with the arrows, wrapping around", () => {
    expect(arrowScreen(0, "ArrowRight")).toBe("crafter");
    expect(arrowScreen(0, "ArrowLeft")).toBe("probe");
    expect(arrowScreen(screens.length - 1, "ArrowRight")).toBe("issuer");
    expect(arrowScreen(2, "Enter")).toBeUndefined();
    expect(arrowScreen(-1, "ArrowRight")).toBeUndefined();
  });
});

// show() only needs getElementById, so a few fake elements stand in for the page.
function fakePage() {
  const els: Record<string, { hidden: boolean; attrs: Record<string, string>; setAttribute(k: string, v: string): void }> = {};
  for (const s of screens) {
    for (const id of [`screen-${s}`, `tab-${s}`]) {
      els[id] = { hidden: false, attrs: {}, setAttribute(k, v) { this.attrs[k] = v; } };
    }
  }
  vi.stubGlobal("document", { getElementById: (id: string) => els[id] ?? null });
  return els;
}

describe("show and the hooks", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("shows one screen, selects its tab and runs only its hooks", async () => {
    vi.resetModules();
    const nav = await import("../src/nav");
    const els = fakePage();
    const history = vi.fn();
    const log = vi.fn();
    nav.onShow("history", history);
    nav.onShow("log", log);
    nav.show("history");
    expect(screens.filter((s) => !els[`screen-${s}`].hidden)).toEqual(["history"]);
    expect(screens.filter((s) => els[`tab-${s}`].attrs["aria-selected"] === "true")).toEqual(["history"]);
    expect(history).toHaveBeenCalledTimes(1);
    expect(log).not.toHaveBeenCalled();
  });
  it("opens a token in the Inspector through the registered hook", async () => {
    vi.resetModules();
    const nav = await import("../src/nav");
    const els = fakePage();
    const inspect = vi.fn();
    nav.onOpenInInspector(inspect);
    nav.openInInspector("a.b.c");
    expect(els["screen-inspector"].hidden).toBe(false);
    expect(els["screen-issuer"].hidden).toBe(true);
    expect(inspect).toHaveBeenCalledWith("a.b.c");
  });
});
