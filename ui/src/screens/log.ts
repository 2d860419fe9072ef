// Log: relying-party requests to discovery, JWKS and attacker documents, updating live.
import { api, type RequestRecord } from "../api";
import { byId, h, td, type Cell } from "../lib/dom";
import { currentStatus } from "../state";

let since = 0;

/** A request's cells in column order; the status is marked pass below 400, fail from 400. */
export function logCells(rec: RequestRecord): Cell[] {
  return [
    { text: rec.time },
    { text: rec.peer ?? "" },
    { text: rec.method },
    { text: rec.path, class: "mono" },
    { text: String(rec.status), class: rec.status < 400 ? "pass" : "fail" },
    { text: rec.duration_ms.toFixed(1) },
    { text: rec.user_agent ?? "" },
  ];
}

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
    if (currentStatus()?.running) {
      try {
        const r = await api.requests(since);
        const body = byId("log-table").querySelector("tbody");
        for (const rec of r.requests) {
          body?.prepend(
            h("tr", { "data-endpoint": rec.endpoint }, ...logCells(rec).map(td)),
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
