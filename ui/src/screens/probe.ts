// Probe: point the catalogue at a live relying party and read which hostile tokens it accepts.
import { api, message, type ProbeReport } from "../api";
import { byId, copy, h, toast } from "../lib/dom";
import { splitList } from "../lib/json";

let last: ProbeReport | null = null;

export function renderProbe(root: HTMLElement): void {
  const url = h("input", { id: "pr-url", placeholder: "https://localhost:9000/protected", size: 50 });
  const exec = h("input", { id: "pr-exec", placeholder: "or a command: python3 verify.py {token}", size: 50 });
  const headers = h("textarea", { id: "pr-headers", style: "min-height:40px" }, "Authorization: Bearer {token}");
  const audiences = h("textarea", { id: "pr-audiences", style: "min-height:40px", placeholder: "accepted audiences (blank: workspace default)" });
  const progress = h("div", { id: "pr-progress", class: "muted" });
  const table = h("table", { id: "pr-table" }, h("thead", {}, h("tr", {}, ...["case", "expected", "observed", "verdict", "reference"].map((t) => h("th", { text: t })))), h("tbody"));
  const run = async () => {
    progress.textContent = "running the catalogue against the relying party…";
    try {
      last = await api.probe({
        url: url.value.trim() || null,
        exec: exec.value.trim() || null,
        headers: splitList(headers.value.replace(/,/g, "\u0000")).map((s) => s.replace(/\u0000/g, ",")),
        audiences: splitList(audiences.value),
      });
      const s = last.summary;
      progress.textContent = `${last.baseline}; ${s.total} cases: ${s.passed} as expected, ${s.failed} wrongly accepted or refused, ${s.skipped} skipped`;
      byId("pr-table").querySelector("tbody")?.replaceChildren(
        ...last.rows.map((r) => h("tr", { class: r.verdict }, h("td", { class: "mono", text: r.case }), h("td", { text: r.expected }), h("td", { text: r.observed }), h("td", { class: r.verdict === "pass" ? "pass" : r.verdict === "fail" ? "fail" : "skip", text: r.verdict }), h("td", { text: r.reference }))),
      );
    } catch (e) {
      progress.textContent = "";
      toast(message(e), true);
    }
  };
  root.append(
    h("div", { class: "panel" }, h("h2", { text: "Relying party" }), h("label", {}, "URL ({token} is replaced)", url), h("label", {}, "…or command (exit 0 = accepted)", exec), h("label", {}, "Headers (one per line)", headers), h("label", {}, "Accepted audiences", audiences), h("div", { class: "row" }, h("button", { id: "btn-probe", class: "primary", onclick: run }, "Run probe"), h("button", { id: "btn-probe-json", onclick: () => last && copy(JSON.stringify(last.json, null, 2), "JSON report") }, "Copy JSON"), h("button", { id: "btn-probe-junit", onclick: () => last && copy(last.junit, "JUnit XML") }, "Copy JUnit")), progress),
    h("div", { class: "panel" }, h("h2", { text: "Results" }), table),
  );
}
