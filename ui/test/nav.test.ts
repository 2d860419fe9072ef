import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { arrowScreen, screens, shortcutScreen } from "../src/nav";

describe("keyboard navigation", () => {
  it("maps Ctrl/Cmd + 1..8 to the tabs in order, the first seven as they always were", () => {
    expect(shortcutScreen("1", true)).toBe("issuer");
    expect(shortcutScreen("6", true)).toBe("probe");
    expect(shortcutScreen("7", true)).toBe("faults");
    expect(shortcutScreen("8", true)).toBe("policies");
    expect(shortcutScreen("9", true)).toBeUndefined();
    expect(shortcutScreen("0", true)).toBeUndefined();
    expect(shortcutScreen("a", true)).toBeUndefined();
    expect(shortcutScreen("1", false)).toBeUndefined();
  });
  it("moves between tabs with the arrows, wrapping around", () => {
    expect(arrowScreen(0, "ArrowRight")).toBe("crafter");
    expect(arrowScreen(0, "ArrowLeft")).toBe("policies");
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

describe("the tab list", () => {
  it("keeps the first seven screens in their order and adds Policies last", () => {
    expect(screens).toEqual(["issuer", "crafter", "inspector", "log", "history", "probe", "faults", "policies"]);
  });
  it("matches index.html: a tab and a panel per screen, tabs in the same order", () => {
    const html = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../index.html"), "utf8");
    const tabs = [...html.matchAll(/role="tab" data-screen="([a-z]+)" id="tab-\1"/g)].map((m) => m[1]);
    expect(tabs).toEqual([...screens]);
    for (const s of screens) expect(html).toContain(`<section id="screen-${s}" class="screen" role="tabpanel" aria-labelledby="tab-${s}"`);
  });
});

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
