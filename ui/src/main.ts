// The bootstrap, and nothing else: screens, state and navigation live in their own modules, so
// importing any of them (as the tests do) runs none of this.
import "./style.css";
import { initAuth } from "./api";
import { byId } from "./lib/dom";
import { onOpenInInspector, onShow, wireNavigation } from "./nav";
import { badge, currentStatus, onStatus, onStatusError, refresh } from "./state";
import { renderIssuer } from "./screens/issuer";
import { renderCrafter } from "./screens/crafter";
import { renderInspector, inspectToken } from "./screens/inspector";
import { renderLog, startLog } from "./screens/log";
import { renderHistory, refreshHistory } from "./screens/history";
import { renderProbe } from "./screens/probe";
import { renderFaults } from "./screens/faults";
import { renderPolicies } from "./screens/policies";

// The web console's one-time token leaves the address bar before anything is fetched.
initAuth();

// Uncaught errors are kept where the end-to-end test can read them (and the UI never hides them).
const seenErrors: string[] = [];
(window as unknown as { __stepmintErrors: string[] }).__stepmintErrors = seenErrors;
window.addEventListener("error", (e) => seenErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => seenErrors.push(String(e.reason)));
// So is anything the page's Content-Security-Policy refused: the console must need none of it.
document.addEventListener("securitypolicyviolation", (e) => seenErrors.push(`CSP refused ${e.blockedURI || "inline code"} (${e.violatedDirective})`));

// The badge listens first, so it is updated before the screens, as it always was.
onStatus((s) => {
  const b = badge(s);
  const el = byId("status-badge");
  el.textContent = b.text;
  el.className = b.className;
});
onStatusError((msg) => (byId("status-badge").textContent = msg));

onShow("history", () => void refreshHistory());
onOpenInInspector((token) => void inspectToken(token));
wireNavigation();

renderIssuer(byId("screen-issuer"));
renderCrafter(byId("screen-crafter"));
renderInspector(byId("screen-inspector"));
renderLog(byId("screen-log"));
renderHistory(byId("screen-history"));
renderProbe(byId("screen-probe"));
renderFaults(byId("screen-faults"));
renderPolicies(byId("screen-policies"));
startLog();

// The issuer starts in the background; poll until it is up, then every few seconds.
void (async function poll() {
  await refresh();
  window.setTimeout(poll, currentStatus()?.running ? 5000 : 500);
})();
