// Log: relying-party requests to discovery, JWKS and attacker documents, updating live: a
// timeline of the last minutes (one sparkline per endpoint, coloured by status class, injected
// faults shaded) above the table. The app polls; the web console follows the server's stream.
import { api, isBrowser, type RequestRecord } from "../api";
import { byId, h, svg, td, type Cell } from "../lib/dom";
import { currentStatus } from "../state";

let since = 0;
/** The records the timeline draws (those inside its window). */
let recent: RequestRecord[] = [];

/**
 * Which injected fault a request met, in a few words (`status 500`, `hang`, `delay 2s`); an older
 * server gave only the fault as JSON, shown as it is. Blank for a healthy request.
 */
export function faultText(rec: Pick<RequestRecord, "fault" | "fault_summary">): string {
  return rec.fault_summary ?? rec.fault ?? "";
}

/** A request's cells in column order; the status is marked pass below 400, fail from 400; the last says which fault, if any. */
export function logCells(rec: RequestRecord): Cell[] {
  return [
    { text: rec.time },
    { text: rec.peer ?? "" },
    { text: rec.method },
    { text: rec.path, class: "mono" },
    { text: String(rec.status), class: rec.status < 400 ? "pass" : "fail" },
    { text: rec.duration_ms.toFixed(1) },
    { text: rec.user_agent ?? "" },
    { text: faultText(rec), class: rec.fault || rec.fault_summary ? "fault" : undefined },
  ];
}

/**
 * Whether the Log shows a record: relying-party traffic only, so neither the control API nor the
 * web console's own page and assets (logged as "control"; an older server logged them as "other").
 */
export function shownInLog(rec: Pick<RequestRecord, "endpoint" | "path">): boolean {
  if (rec.endpoint === "control") return false;
  return !(rec.endpoint === "other" && /^\/_stepmint\/ui(\/|\?|$)/.test(rec.path));
}

/** The timeline's rows, top to bottom. */
export const timelineRows = ["discovery", "jwks", "attacker", "other"] as const;
export type TimelineRow = (typeof timelineRows)[number];

/** One time slot of one row: requests by status class, and how many carried an injected fault. */
export interface Bucket { ok: number; client: number; server: number; fault: number }

/** Requests bucketed over a window ending at (about) now. */
export interface Timeline {
  /** Start of the first bucket and end of the last, in ms since the epoch. */
  start: number; end: number; bucketMs: number;
  rows: Record<TimelineRow, Bucket[]>;
  /** Per bucket: whether any request in it (any row) carried a fault. */
  faulted: boolean[];
  /** Per row: the most requests in one bucket (at least 1, to scale by). */
  max: Record<TimelineRow, number>;
}

/** The row a record is drawn in; control-API traffic is not drawn (null). */
export function timelineRow(endpoint: string): TimelineRow | null {
  if (endpoint === "control") return null;
  return (timelineRows as readonly string[]).includes(endpoint) ? (endpoint as TimelineRow) : "other";
}

/**
 * Buckets `records` into slots of `bucketMs` over the `windowMs` up to `now` (slots aligned to
 * multiples of `bucketMs`, the last one holding `now`); records outside the window, with a time
 * that does not parse, or for the control API are left out. 2xx/3xx count as ok, 4xx as client
 * errors, 5xx as server errors.
 */
export function bucketRequests(records: RequestRecord[], now: number, windowMs = 300_000, bucketMs = 5_000): Timeline {
  const n = Math.max(1, Math.round(windowMs / bucketMs));
  const end = (Math.floor(now / bucketMs) + 1) * bucketMs;
  const start = end - n * bucketMs;
  const empty = () => Array.from({ length: n }, (): Bucket => ({ ok: 0, client: 0, server: 0, fault: 0 }));
  const rows = { discovery: empty(), jwks: empty(), attacker: empty(), other: empty() } as Record<TimelineRow, Bucket[]>;
  const faulted = Array.from({ length: n }, () => false);
  for (const r of records) {
    const row = timelineRow(r.endpoint);
    const t = Date.parse(r.time);
    if (row === null || Number.isNaN(t) || t < start || t >= end) continue;
    const i = Math.floor((t - start) / bucketMs);
    const b = rows[row][i];
    if (r.status >= 500) b.server++;
    else if (r.status >= 400) b.client++;
    else b.ok++;
    if (r.fault) {
      b.fault++;
      faulted[i] = true;
    }
  }
  const max = {} as Record<TimelineRow, number>;
  for (const row of timelineRows) max[row] = Math.max(1, ...rows[row].map((b) => b.ok + b.client + b.server));
  return { start, end, bucketMs, rows, faulted, max };
}

const LABEL_W = 90;
const PLOT_W = 660;
const ROW_H = 26;
const ROW_GAP = 6;
const AXIS_H = 16;

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Draws the timeline into `#log-timeline`. */
function drawTimeline(t: Timeline): void {
  const el = document.getElementById("log-timeline");
  if (!el) return;
  const n = t.faulted.length;
  const bw = PLOT_W / n;
  const height = timelineRows.length * (ROW_H + ROW_GAP) + AXIS_H;
  const parts: SVGElement[] = [];
  // Faulted periods first, under the bars, across every row.
  t.faulted.forEach((f, i) => {
    if (f) parts.push(svg("rect", { class: "tl-fault", x: LABEL_W + i * bw, y: 0, width: bw, height: height - AXIS_H }, svg("title", {}, `faults injected ${clock(t.start + i * t.bucketMs)}`)));
  });
  timelineRows.forEach((row, r) => {
    const top = r * (ROW_H + ROW_GAP);
    const base = top + ROW_H;
    const total = t.rows[row].reduce((s, b) => s + b.ok + b.client + b.server, 0);
    parts.push(svg("text", { class: "tl-label", x: 0, y: top + ROW_H / 2 + 4 }, `${row} ${total}`));
    parts.push(svg("line", { class: "tl-base", x1: LABEL_W, x2: LABEL_W + PLOT_W, y1: base, y2: base }));
    t.rows[row].forEach((b, i) => {
      let y = base;
      for (const [cls, count] of [["tl-ok", b.ok], ["tl-4xx", b.client], ["tl-5xx", b.server]] as const) {
        if (!count) continue;
        const hgt = Math.max(1, (count / t.max[row]) * ROW_H);
        y -= hgt;
        parts.push(svg("rect", { class: `tl-bar ${cls}`, "data-row": row, x: LABEL_W + i * bw + 0.5, y, width: Math.max(1, bw - 1), height: hgt }, svg("title", {}, `${row} ${clock(t.start + i * t.bucketMs)}: ${count} ${cls.slice(3)}`)));
      }
    });
  });
  const minutes = Math.round((t.end - t.start) / 60_000);
  for (let m = 0; m <= minutes; m++) {
    const x = LABEL_W + PLOT_W - (m * 60_000 / (t.end - t.start)) * PLOT_W;
    parts.push(svg("text", { class: "tl-axis", x, y: height - 3, "text-anchor": m === 0 ? "end" : "middle" }, m === 0 ? "now" : `-${m} min`));
  }
  el.setAttribute("viewBox", `0 0 ${LABEL_W + PLOT_W} ${height}`);
  el.replaceChildren(...parts);
}

const WINDOW_MS = 300_000;

function redrawTimeline(): void {
  // The server's clock can run ahead of this one: the newest record counts as now at least.
  const newest = recent.reduce((m, r) => Math.max(m, Date.parse(r.time) || 0), 0);
  const now = Math.max(Date.now(), newest);
  recent = recent.filter((r) => (Date.parse(r.time) || 0) >= now - WINDOW_MS - 5_000);
  drawTimeline(bucketRequests(recent, now, WINDOW_MS));
}

/** Adds records (oldest first) to the table and the timeline. */
function addRecords(all: RequestRecord[]): void {
  const records = all.filter(shownInLog);
  if (!records.length) return;
  const body = byId("log-table").querySelector("tbody");
  for (const rec of records) {
    body?.prepend(h("tr", { "data-endpoint": rec.endpoint, "data-id": rec.id, class: rec.fault ? "faulted" : undefined, title: rec.fault ? `fault: ${rec.fault}` : undefined }, ...logCells(rec).map(td)));
  }
  recent.push(...records);
  byId("log-count").textContent = String(body?.children.length ?? 0);
  redrawTimeline();
}

export function renderLog(root: HTMLElement): void {
  const legend = h(
    "div",
    { class: "row tl-legend muted" },
    h("span", { class: "tl-key tl-ok" }), "2xx/3xx",
    h("span", { class: "tl-key tl-4xx" }), "4xx",
    h("span", { class: "tl-key tl-5xx" }), "5xx",
    h("span", { class: "tl-key tl-fault" }), "fault injected",
    h("span", { text: "· last 5 minutes, 5 s a bar" }),
  );
  const timeline = svg("svg", { id: "log-timeline", role: "img", "aria-label": "Requests over the last five minutes by endpoint and status", preserveAspectRatio: "xMinYMin meet" });
  root.append(
    h(
      "div",
      { class: "panel" },
      h("h2", {}, "Relying-party requests ", h("span", { id: "log-count", class: "muted", text: "0" })),
      timeline,
      legend,
      h("table", { id: "log-table" }, h("thead", {}, h("tr", {}, ...["time", "peer", "method", "path", "status", "ms", "user agent", "fault"].map((t) => h("th", { text: t })))), h("tbody")),
    ),
  );
  drawTimeline(bucketRequests([], Date.now(), WINDOW_MS));
  // The timeline moves on with the clock even when nothing arrives.
  window.setInterval(redrawTimeline, 5000);
}

export function startLog(): void {
  if (isBrowser()) {
    // The console follows the server's stream (polling if it breaks): no reload needed.
    api.watchRequests(0, addRecords);
    return;
  }
  const tick = async () => {
    if (currentStatus()?.running) {
      try {
        const r = await api.requests(since);
        addRecords(r.requests);
        since = r.next;
      } catch {
        // The issuer restarted: its log starts again from 1.
        since = 0;
      }
    }
    window.setTimeout(tick, 1000);
  };
  void tick();
}
