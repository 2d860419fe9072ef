import "./style.css";

// Uncaught errors are kept where the end-to-end test can read them (and the UI never hides them).
const seenErrors: string[] = [];
(window as unknown as { __stepmintErrors: string[] }).__stepmintErrors = seenErrors;
window.addEventListener("error", (e) => seenErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => seenErrors.push(String(e.reason)));
import { api, message, type Status } from "./api";
import { byId } from "./lib/dom";
import { renderIssuer } from "./screens/issuer";
import { renderCrafter } from "./screens/crafter";
import { renderInspector, inspectToken } from "./screens/inspector";
import { renderLog, startLog } from "./screens/log";
import { renderHistory, refreshHistory } from "./screens/history";
import { renderProbe } from "./screens/probe";

const screens = ["issuer", "crafter", "inspector", "log", "history", "probe"] as const;
export type Screen = (typeof screens)[number];

/** Shared app state the screens read. */
export const app = {
  status: null as Status | null,
  listeners: [] as ((s: Status) => void)[],
  onStatus(fn: (s: Status) => void) {
    this.listeners.push(fn);
    if (this.status) fn(this.status);
  },
  setStatus(s: Status) {
    this.status = s;
    const badge = byId("status-badge");
    badge.textContent = s.running ? `running on ${s.server?.base_url ?? ""}` : s.error ? "stopped: error" : "stopped";
    badge.className = `badge ${s.running ? "ok" : "bad"}`;
    for (const fn of this.listeners) fn(s);
  },
  async refresh() {
    try {
      this.setStatus(await api.status());
    } catch (e) {
      byId("status-badge").textContent = message(e);
    }
  },
  show(screen: Screen) {
    for (const s of screens) {
      byId(`screen-${s}`).hidden = s !== screen;
      byId(`tab-${s}`).setAttribute("aria-selected", String(s === screen));
    }
    if (screen === "history") void refreshHistory();
  },
  openInInspector(token: string) {
    this.show("inspector");
    void inspectToken(token);
  },
};

for (const s of screens) {
  byId(`tab-${s}`).addEventListener("click", () => app.show(s));
}
// Ctrl/Cmd + 1..6 switch screens; arrow keys move between tabs.
document.addEventListener("keydown", (e) => {
  const n = Number(e.key);
  if ((e.ctrlKey || e.metaKey) && n >= 1 && n <= screens.length) {
    e.preventDefault();
    app.show(screens[n - 1]);
    byId(`tab-${screens[n - 1]}`).focus();
  }
});
byId("app").querySelector("nav")?.addEventListener("keydown", (e) => {
  const i = screens.findIndex((s) => byId(`tab-${s}`) === document.activeElement);
  if (i < 0 || !(e instanceof KeyboardEvent)) return;
  const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
  if (step) {
    const next = screens[(i + step + screens.length) % screens.length];
    app.show(next);
    byId(`tab-${next}`).focus();
  }
});

renderIssuer(byId("screen-issuer"));
renderCrafter(byId("screen-crafter"));
renderInspector(byId("screen-inspector"));
renderLog(byId("screen-log"));
renderHistory(byId("screen-history"));
renderProbe(byId("screen-probe"));
startLog();

// The issuer starts in the background; poll until it is up, then every few seconds.
void (async function poll() {
  await app.refresh();
  window.setTimeout(poll, app.status?.running ? 5000 : 500);
})();
