// Issuer: status, per-workspace URLs with copy buttons, CA and trust lines, listen address,
// start/stop/restart, workspaces and keys.
import { api, isBrowser, message, type KeyInfo, type Status, type WorkspaceInfo } from "../api";
import { copy, download, h, toast } from "../lib/dom";
import { isoDate } from "../lib/time";
import { onStatus, refresh, setStatus } from "../state";

/** The start/restart arguments: a blank address or port is left to the saved settings. */
export function listenArgs(bind: string, port: string): readonly [string | undefined, number | undefined] {
  return [bind.trim() || undefined, port === "" ? undefined : Number(port)] as const;
}

/** A key's state, and the date it ends if it has one (a retiring key). */
export function keyState(k: KeyInfo): string {
  return k.state + (k.state === "retiring" ? ` until ${isoDate(k.until)}` : "");
}

function urlRow(label: string, url: string, cls: string): HTMLElement {
  return h("div", { class: "row" }, h("span", { class: "muted", text: `${label}:` }), h("code", { class: cls, text: url }), h("button", { onclick: () => copy(url, label), "aria-label": `Copy ${label}` }, "Copy"));
}

function workspacePanel(ws: WorkspaceInfo): HTMLElement {
  const keys = h("table", { class: "keys" }, h("thead", {}, h("tr", {}, h("th", { text: "kid" }), h("th", { text: "alg" }), h("th", { text: "state" }), h("th", { text: "published" }))));
  const body = h("tbody");
  for (const k of ws.keys) {
    body.append(h("tr", {}, h("td", { class: "mono", text: k.kid }), h("td", { text: k.alg }), h("td", { text: keyState(k) }), h("td", { text: k.published ? "yes" : "no" })));
  }
  keys.append(body);
  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      toast(done);
      await refresh();
    } catch (e) {
      toast(message(e), true);
    }
  };
  return h(
    "div",
    { class: "panel workspace", "data-slug": ws.slug },
    h("h2", {}, `Workspace ${ws.slug} `, h("span", { class: "muted mono", text: ws.uuid })),
    urlRow("issuer", ws.issuer, "issuer-url"),
    urlRow("discovery", ws.discovery, "discovery-url"),
    urlRow("JWKS", ws.jwks_uri, "jwks-url"),
    h("div", { class: "row" }, h("span", { class: "muted", text: "default audience:" }), h("code", { class: "default-audience", text: ws.default_audience })),
    h("h3", { text: "Keys" }),
    keys,
    h(
      "div",
      { class: "row" },
      h("button", { class: "rotate-key", onclick: () => act(() => api.rotateKey(ws.slug), `rotated ${ws.slug}'s key`) }, "Rotate key"),
      h("button", { onclick: () => act(() => api.addKey(ws.slug, "ES256"), "ES256 key added") }, "Add ES256 key"),
      // The console drives a running server, whose workspaces are fixed when it starts.
      isBrowser() ? null : h("button", { onclick: () => act(() => api.removeWorkspace(ws.slug), `stopped serving ${ws.slug}`) }, "Stop serving"),
    ),
  );
}

/** The Issuer screen's note in the web console, where the server's settings are fixed. */
export const consoleNote = "This web console drives the running `stepmint serve`: keys, faults, tokens and probes change live; to change its address, port or workspaces, restart `stepmint serve` with new options.";

async function downloadCa(): Promise<void> {
  try {
    download("stepmint-ca.pem", await api.caPem(), "application/x-pem-file");
    toast("CA certificate downloaded as stepmint-ca.pem");
  } catch (e) {
    toast(message(e), true);
  }
}

export function renderIssuer(root: HTMLElement): void {
  const app = !isBrowser();
  const state = h("div", { id: "issuer-state", class: "panel" });
  const bind = h("input", { id: "bind", value: "127.0.0.1", "aria-label": "Bind address", size: 16 });
  const port = h("input", { id: "port", type: "number", min: 0, max: 65535, value: 8443, "aria-label": "Port", size: 6 });
  const caPath = h("input", { id: "save-ca-path", value: "~/stepmint-ca.pem", "aria-label": "Save the CA to", size: 30 });
  const newWs = h("input", { id: "add-workspace", placeholder: "slug or slug={uuid}", "aria-label": "Workspace to add", size: 28 });
  const workspaces = h("div", { id: "workspaces" });
  const guard = async (fn: () => Promise<Status>) => {
    try {
      setStatus(await fn());
    } catch (e) {
      toast(message(e), true);
      await refresh();
    }
  };
  const listen = () => listenArgs(bind.value, port.value);
  root.append(
    state,
    app
      ? h(
          "div",
          { class: "panel" },
          h("h2", { text: "Listen" }),
          h(
            "div",
            { class: "row" },
            h("label", {}, "Bind address", bind),
            h("label", {}, "Port (0 = any free)", port),
            h("button", { id: "btn-start", class: "primary", onclick: () => guard(() => api.start(...listen())) }, "Start"),
            h("button", { id: "btn-stop", onclick: () => guard(() => api.stop()) }, "Stop"),
            h("button", { id: "btn-restart", onclick: () => guard(() => api.restart(...listen())) }, "Restart"),
          ),
        )
      : h("div", { class: "panel" }, h("h2", { text: "Web console" }), h("p", { id: "console-note", class: "note", text: consoleNote })),
    h(
      "div",
      { class: "panel" },
      h("h2", { text: "Trust the CA" }),
      h("div", { class: "row" }, h("span", { class: "muted", text: "CA certificate:" }), h("code", { id: "ca-path", text: "…" })),
      h(
        "div",
        { class: "row" },
        h("button", { id: "copy-trust", onclick: async () => copy(await api.trustLines(), "Trust environment lines") }, "Copy trust environment lines"),
        app ? caPath : null,
        app
          ? h("button", { id: "btn-save-ca", onclick: async () => {
              try {
                toast(`CA saved to ${await api.saveCa(caPath.value)}`);
              } catch (e) {
                toast(message(e), true);
              }
            } }, "Save CA as…")
          : h("button", { id: "btn-download-ca", onclick: downloadCa }, "Download CA certificate"),
      ),
    ),
    ...(app ? [h("div", { class: "panel" }, h("h2", { text: "Workspaces" }), h("div", { class: "row" }, newWs, h("button", { id: "btn-add-workspace", onclick: () => guard(() => api.addWorkspace(newWs.value)) }, "Add workspace")))] : []),
    workspaces,
  );
  onStatus((s) => {
    const parts: (HTMLElement | null)[] = [
      h("h2", {}, "Issuer ", h("span", { id: "issuer-status", class: s.running ? "pass" : "fail", text: s.running ? "running" : "stopped" })),
      s.server ? h("div", { class: "row" }, h("span", { class: "muted", text: "base URL:" }), h("code", { id: "base-url", text: s.server.base_url }), h("span", { class: "muted", text: `bound to ${s.server.bound}` })) : h("div", { class: "muted", text: "not listening" }),
      h("div", { class: "row" }, h("span", { class: "muted", text: "data directory:" }), h("code", { text: s.data_dir })),
      s.note ? h("div", { class: "note", text: s.note }) : null,
      s.error && !s.running ? h("div", { class: "error", id: "issuer-error", text: s.error }) : null,
    ];
    state.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
    if (s.settings && document.activeElement !== bind) bind.value = s.settings.bind;
    if (s.settings && document.activeElement !== port) port.value = String(s.settings.port);
    const ca = document.getElementById("ca-path");
    if (ca) ca.textContent = s.server?.ca_path ?? "(start the issuer)";
    workspaces.replaceChildren(...(s.server?.workspaces ?? []).map(workspacePanel));
  });
}
