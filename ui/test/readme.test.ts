// The README's desktop-app section must describe the screens the front end has: one table row
// per screen, and the keyboard line's Ctrl+1..N for all of them.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { screens } from "../src/nav";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README", () => {
  it("lists every screen in its table, by the tab's name", () => {
    const section = readme.slice(readme.indexOf("| Screen | What it does |\n| --- | --- |\n") + "| Screen | What it does |\n| --- | --- |\n".length);
    const rows = [...section.slice(0, section.indexOf("\n\n")).matchAll(/^\| ([A-Z][a-z]+) \|/gm)].map((m) => m[1].toLowerCase());
    expect(rows).toEqual([...screens]);
  });
  it("gives the screen shortcuts for as many screens as there are", () => {
    const shortcut = /Ctrl\+1\.\.(\d+)/.exec(readme);
    expect(shortcut?.[1]).toBe(String(screens.length));
  });
});
