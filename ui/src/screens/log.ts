// Log: relying-party requests to discovery, JWKS and attacker documents, updating live.
import { api } from "../api";
import { app } from "../main";
import { byId, h } from "../lib/dom";

let since = 0;

export function renderLog(root: HTMLElement): void {
  root.append(
    h(
      "div",
      { class: "panel" },
      h("h2", {}, "Relying-party requests ", h("span", { id: "log-count", class: "muted", text: "0" })),
      h("table", { id: "log-table" }, h("thead", {}, h("tr", {}, ...["time", "peer", "method", "path", "status", "ms", "user agent"].map((t) => h("th", { text: t })))), h("tbody")),
    ),
  );
}

export function startLog(): void {
  const tick = async () => {
    if (app.status?.running) {
      try {
        const r = await api.requests(since);
        const body = byId("log-table").querySelector("tbody");
        for (const rec of r.requests) {
          body?.prepend(
            h("tr", { "data-endpoint": rec.endpoint }, h("td", { text: rec.time }), h("td", { text: rec.peer ?? "" }), h("td", { text: rec.method }), h("td", { class: "mono", text: rec.path }), h("td", { class: rec.status < 400 ? "pass" : "fail", text: String(rec.status) }), h("td", { text: rec.duration_ms.toFixed(1) }), h("td", { text: rec.user_agent ?? "" })),
          );
        }
        since = r.next;
        byId("log-count").textContent = String(body?.children.length ?? 0);
      } catch {
        // The issuer restarted: its log starts again from 1.
        since = 0;
      }
    }
    window.setTimeout(tick, 1000);
  };
  void tick();
}
