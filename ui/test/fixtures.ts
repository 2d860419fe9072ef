// Typed fixtures shared by the screen tests.
import type { Status } from "../src/api";

/** A status, running with one workspace unless `over` says otherwise. */
export function status(over: Partial<Status> = {}): Status {
  return {
    running: true,
    server: {
      base_url: "https://localhost:8443",
      bound: "127.0.0.1:8443",
      ca_path: "/data/ca.pem",
      bundle_path: "/data/bundle.pem",
      workspaces: [],
    },
    data_dir: "/data",
    settings: { bind: "127.0.0.1", port: 8443, workspaces: [{ slug: "stepmint" }] },
    note: null,
    error: null,
    ...over,
  };
}
