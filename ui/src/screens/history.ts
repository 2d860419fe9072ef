// History: minted tokens, kept across restarts, re-openable in the Inspector: every mint, the
// console's, the app's, the CLI's and the control API's, each with where it came from.
import { api, message, type HistoryEntry, type MintOrigin } from "../api";
import { byId, h, td, toast, type Cell } from "../lib/dom";
import { isoDate } from "../lib/time";
import { openInInspector } from "../nav";

const origins: Record<MintOrigin, string> = { console: "console", app: "app", cli: "CLI", api: "control API" };

/** Where a token was minted, for people; blank for entries older than origins. */
export function originText(o: MintOrigin | null | undefined): string {
  return o ? (origins[o] ?? o) : "";
}

/** An entry's cells in column order (the Inspect button follows); a catalogue-less token is "genuine". */
export function historyCells(e: HistoryEntry): Cell[] {
  return [{ text: isoDate(e.time) }, { text: e.workspace }, { text: e.case ?? "genuine" }, { text: e.summary, class: "mono" }, { text: originText(e.origin) }];
}

export async function refreshHistory(): Promise<void> {
  try {
    const list = await api.history();
    byId("history-table").querySelector("tbody")?.replaceChildren(
      ...list.map((e) =>
        h(
          "tr",
          { "data-id": e.id },
          ...historyCells(e).map(td),
          h("td", {}, e.token ? h("button", { class: "open-history", onclick: () => openInInspector(e.token) }, "Inspect") : h("span", { class: "muted", text: "too long to keep" })),
        ),
      ),
    );
  } catch (e) {
    toast(message(e), true);
  }
}

export function renderHistory(root: HTMLElement): void {
  root.append(
    h(
      "div",
      { class: "panel" },
      h("h2", { text: "Minted tokens" }),
      h("div", { class: "row" }, h("button", { id: "btn-clear-history", onclick: async () => { await api.clearHistory(); await refreshHistory(); } }, "Clear history")),
      h("table", { id: "history-table" }, h("thead", {}, h("tr", {}, ...["minted", "workspace", "case", "sub / case", "minted by", ""].map((t) => h("th", { text: t })))), h("tbody")),
    ),
  );
}
