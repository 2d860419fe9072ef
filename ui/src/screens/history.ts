// History: minted tokens, kept across restarts, re-openable in the Inspector.
import { api, message, type HistoryEntry } from "../api";
import { byId, h, td, toast, type Cell } from "../lib/dom";
import { isoDate } from "../lib/time";
import { openInInspector } from "../nav";

/** An entry's cells in column order (the Inspect button follows); a catalogue-less token is "genuine". */
export function historyCells(e: HistoryEntry): Cell[] {
  return [{ text: isoDate(e.time) }, { text: e.workspace }, { text: e.case ?? "genuine" }, { text: e.summary, class: "mono" }];
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
      h("table", { id: "history-table" }, h("thead", {}, h("tr", {}, ...["minted", "workspace", "case", "sub / case", ""].map((t) => h("th", { text: t })))), h("tbody")),
    ),
  );
}
