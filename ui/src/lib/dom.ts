// A few DOM helpers, so screens stay declarative without a framework.

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Creates an element with attributes (`on…` keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "text") el.textContent = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** The element with `id`, typed. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** Shows a short message; errors stay longer. */
export function toast(text: string, bad = false): void {
  const t = byId("toast");
  t.textContent = text;
  t.className = bad ? "bad" : "";
  t.hidden = false;
  window.clearTimeout((t as unknown as { timer?: number }).timer);
  (t as unknown as { timer?: number }).timer = window.setTimeout(() => (t.hidden = true), bad ? 8000 : 2500);
}

/** Copies text to the clipboard, falling back to a hidden textarea. */
export async function copy(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h("textarea", {}, text);
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  toast(`${what} copied`);
}

/** A table cell as data (text and an optional class), so a screen's rows can be tested without a DOM. */
export type Cell = { text: string; class?: string };

/** The `<td>` for a cell. */
export function td(c: Cell): HTMLTableCellElement {
  return h("td", { class: c.class, text: c.text });
}

/** Pretty JSON for display. */
export function pretty(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

/** Offers `text` as a file named `name`: a Blob behind a temporary `<a download>`, clicked. */
export function download(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some engines start reading the Blob only after the click returns.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name for `name`: path separators and other unsafe characters become `-`. */
export function fileName(name: string, ext: string): string {
  const base = name.trim().replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "") || "recipe";
  return base.endsWith(ext) ? base : `${base}${ext}`;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element (`h` makes HTML ones) with attributes and children. */
export function svg(tag: string, attrs: Record<string, string | number | undefined> = {}, ...children: (Node | string | null | undefined)[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}
