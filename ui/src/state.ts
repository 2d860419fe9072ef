// The status store: the issuer's last known Status and who follows it. Apart from main.ts so a
// screen can import it without running the bootstrap, and free of the DOM so it can be tested.
import { api, message, type Status } from "./api";

type Listener = (s: Status) => void;

let current: Status | null = null;
const listeners: Listener[] = [];
const failureListeners: ((message: string) => void)[] = [];

/** The last status the issuer reported; null until the first answer. */
export function currentStatus(): Status | null {
  return current;
}

/** Calls `fn` on every new status, and at once if one is known (screens rendered late catch up). */
export function onStatus(fn: Listener): void {
  listeners.push(fn);
  if (current) fn(current);
}

/** Calls `fn` with a readable message when asking for the status fails. */
export function onStatusError(fn: (message: string) => void): void {
  failureListeners.push(fn);
}

/** Stores a status (from a poll or a start/stop answer) and tells every listener. */
export function setStatus(s: Status): void {
  current = s;
  for (const fn of listeners) fn(s);
}

/** Asks the Rust side for the status; a failure goes to the error listeners, not the caller. */
export async function refresh(): Promise<void> {
  try {
    setStatus(await api.status());
  } catch (e) {
    for (const fn of failureListeners) fn(message(e));
  }
}

/** The header badge's text and class for a status. */
export function badge(s: Status): { text: string; className: string } {
  return {
    text: s.running ? `running on ${s.server?.base_url ?? ""}` : s.error ? "stopped: error" : "stopped",
    className: `badge ${s.running ? "ok" : "bad"}`,
  };
}
