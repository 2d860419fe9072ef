// Navigation: which screen shows, the tabs and the keyboard. Screens import this module, so it
// imports none of them; what a screen needs on arrival is a hook main.ts registers.
import { byId } from "./lib/dom";

export const screens = ["issuer", "crafter", "inspector", "log", "history", "probe", "faults", "policies"] as const;
export type Screen = (typeof screens)[number];

const showHooks = new Map<Screen, (() => void)[]>();
const inspectHooks: ((token: string) => void)[] = [];

/** Runs `fn` each time `screen` is shown (the History reloads on arrival). */
export function onShow(screen: Screen, fn: () => void): void {
  showHooks.set(screen, [...(showHooks.get(screen) ?? []), fn]);
}

/** Runs `fn` with the token when a screen asks to open one in the Inspector. */
export function onOpenInInspector(fn: (token: string) => void): void {
  inspectHooks.push(fn);
}

/** Shows one screen, hides the others, and runs its hooks. */
export function show(screen: Screen): void {
  for (const s of screens) {
    byId(`screen-${s}`).hidden = s !== screen;
    byId(`tab-${s}`).setAttribute("aria-selected", String(s === screen));
  }
  for (const fn of showHooks.get(screen) ?? []) fn();
}

/** Switches to the Inspector and inspects `token` there. */
export function openInInspector(token: string): void {
  show("inspector");
  for (const fn of inspectHooks) fn(token);
}

/** The screen Ctrl/Cmd + `key` switches to: 1..8 in tab order. */
export function shortcutScreen(key: string, ctrlOrMeta: boolean): Screen | undefined {
  const n = Number(key);
  return ctrlOrMeta && Number.isInteger(n) && n >= 1 && n <= screens.length ? screens[n - 1] : undefined;
}

/** The tab an arrow key moves to from the tab at `index` (-1: no tab has the focus); wraps around. */
export function arrowScreen(index: number, key: string): Screen | undefined {
  const step = key === "ArrowRight" ? 1 : key === "ArrowLeft" ? -1 : 0;
  if (index < 0 || !step) return undefined;
  return screens[(index + step + screens.length) % screens.length];
}

/** Wires the tabs' clicks, Ctrl/Cmd + 1..8 and the arrow keys between tabs. */
export function wireNavigation(): void {
  for (const s of screens) {
    byId(`tab-${s}`).addEventListener("click", () => show(s));
  }
  document.addEventListener("keydown", (e) => {
    const target = shortcutScreen(e.key, e.ctrlKey || e.metaKey);
    if (target) {
      e.preventDefault();
      show(target);
      byId(`tab-${target}`).focus();
    }
  });
  byId("app").querySelector("nav")?.addEventListener("keydown", (e) => {
    if (!(e instanceof KeyboardEvent)) return;
    const next = arrowScreen(screens.findIndex((s) => byId(`tab-${s}`) === document.activeElement), e.key);
    if (next) {
      show(next);
      byId(`tab-${next}`).focus();
    }
  });
}
