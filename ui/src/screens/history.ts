// History: minted tokens, kept across restarts, re-openable in the Inspector.
import { api, message } from "../api";
import { app } from "../main";
import { byId, h, toast } from "../lib/dom";
import { isoDate } from "../lib/time";

export async function refreshHistory(): Promise<void> {
  try {
    const list = await api.history();
    byId("history-table").querySelector("tbody")?.replaceChildren(
      ...list.map((e) =>
        h(
          "tr",
          { "data-id": e.id },
          h("td", { text: isoDate(e.time) }),
          h("td", { text: e.workspace }),
          h("td", { text: e.case ?? "genuine" }),
          h("td", { class: "mono", text: e.summary }),
          h("td", {}, e.token ? h("button", { class: "open-history", onclick: () => app.openInInspector(e.token) }, "Inspect") : h("span", { class: "muted", text: "too long to keep" })),
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
