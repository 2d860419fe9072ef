// End-to-end test of the desktop app: the built binary under Xvfb, driven through tauri-driver
// and WebKitWebDriver with WebdriverIO. Run by scripts/desktop-e2e (which sets up Xvfb).
//
// It checks what a user does first: the app starts and shows an issuer URL; a token with a
// custom claim is minted in the Crafter and accepted in the Inspector; the JWKS URL the app
// shows, fetched with the CA it shows, holds the key that verifies that token; the alg-none case
// is refused; the Log and History screens fill; the Policies screen judges a pasted policy
// against the example pipelines file; the Probe screen, pointed at a relying party with one
// flawed claim check, finds the flaw. Every screen is photographed (see `shots`).
import { spawn } from "node:child_process";
import { createPublicKey, verify as rsaVerify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";
import { checkPolicies, flawedRelyingParty, freePort, httpsJson } from "./common.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const app = process.env.STEPMINT_DESKTOP_BIN ?? join(root, "target/debug/stepmint-desktop");
// Screenshots go to target/ so a test run leaves the tree clean; set STEPMINT_SCREENSHOTS to
// docs/screenshots to refresh the README's images.
const shots = resolve(root, process.env.STEPMINT_SCREENSHOTS ?? "target/e2e-screenshots");
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? "", ".cargo/bin/tauri-driver");
mkdirSync(shots, { recursive: true });

const driverPort = await freePort();
const nativePort = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), "stepmint-e2e-"));
// The app's issuer on a port the system picks.
writeFileSync(join(dataDir, "desktop.json"), JSON.stringify({ port: 0 }));
const env = {
  ...process.env,
  STEPMINT_DATA_DIR: dataDir,
  GDK_BACKEND: "x11",
  WEBKIT_DISABLE_COMPOSITING_MODE: "1",
  WEBKIT_DISABLE_DMABUF_RENDERER: "1",
  NO_AT_BRIDGE: "1",
};
const driver = spawn(
  driverBin,
  ["--port", String(driverPort), "--native-port", String(nativePort), "--native-driver", "/usr/bin/WebKitWebDriver"],
  { env, stdio: ["ignore", "inherit", "inherit"] },
);

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function waitForDriver() {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${driverPort}/status`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("tauri-driver did not come up");
}

let browser;
let relyingParty;
try {
  await waitForDriver();
  browser = await remote({
    hostname: "127.0.0.1",
    port: driverPort,
    logLevel: "warn",
    connectionRetryTimeout: 120_000,
    capabilities: { "wdio:enforceWebDriverClassic": true, "tauri:options": { application: app } },
  });
  const $ = (s) => browser.$(s);
  const tab = async (name) => {
    await $(`#tab-${name}`).click();
    await $(`#screen-${name}`).waitForDisplayed({ timeout: 10_000 });
  };
  let issuerUrl = "";
  let jwksUrl = "";
  let caPath = "";
  let token = "";

  await step("the app starts the issuer and shows its URL", async () => {
    await $(".issuer-url").waitForDisplayed({ timeout: 60_000 });
    issuerUrl = await $(".issuer-url").getText();
    jwksUrl = await $(".jwks-url").getText();
    caPath = await $("#ca-path").getText();
    assert(/^https:\/\/localhost:\d+\/2\.0\/workspaces\/stepmint\/pipelines-config\/identity\/oidc$/.test(issuerUrl), issuerUrl);
    assert(caPath.startsWith(dataDir), `${caPath} is in the data dir`);
    await browser.saveScreenshot(join(shots, "issuer.png"));
  });

  await step("a token with a custom claim is minted in the Crafter", async () => {
    await tab("crafter");
    await $("#cr-claims").setValue('{ "team": "qa-e2e" }');
    await $("#btn-mint").click();
    await browser.waitUntil(async () => (await $("#mint-token").getValue()).length > 100, { timeout: 20_000 });
    token = await $("#mint-token").getValue();
    assert((await $("#mint-claims").getText()).includes('"team": "qa-e2e"'), "decoded claims show the custom claim");
    await browser.saveScreenshot(join(shots, "crafter.png"));
  });

  await step("the Inspector shows the claim and accepts the token", async () => {
    await $("#btn-open-inspector").click();
    await $("#screen-inspector").waitForDisplayed({ timeout: 10_000 });
    await browser.waitUntil(async () => (await $("#in-verdict").getText()).length > 0, { timeout: 20_000 });
    const verdict = await $("#in-verdict").getText();
    assert(verdict === "ACCEPTED", verdict);
    assert((await $("#in-claims").getText()).includes("qa-e2e"), "claim shown");
    assert((await $("#in-times").getText()).includes("expires in"), "relative times shown");
    await browser.saveScreenshot(join(shots, "inspector.png"));
  });

  await step("the shown JWKS URL, fetched with the shown CA, holds the key that verifies the token", async () => {
    const jwks = await httpsJson(jwksUrl, readFileSync(caPath));
    const [h, p, s] = token.split(".");
    const kid = JSON.parse(Buffer.from(h, "base64url").toString()).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert(jwk, `kid ${kid} published`);
    const ok = rsaVerify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url"));
    assert(ok, "node:crypto verifies the signature with the published key");
  });

  await step("the alg-none case is minted and the Inspector refuses it", async () => {
    await tab("crafter");
    await $("#cr-claims").clearValue();
    await $("#cr-case").selectByAttribute("value", "alg-none");
    assert((await $("#cr-case-info").getText()).includes("refuse"), "the case's expected outcome is shown");
    await $("#btn-mint").click();
    await browser.waitUntil(async () => (await $("#mint-token").getValue()).endsWith("."), { timeout: 20_000 });
    await $("#btn-open-inspector").click();
    await browser.waitUntil(async () => (await $("#in-verdict").getText()).startsWith("REFUSED"), { timeout: 20_000 });
    await browser.saveScreenshot(join(shots, "inspector-refused.png"));
  });

  await step("the Log shows the relying-party request for the JWKS", async () => {
    await tab("log");
    await browser.waitUntil(async () => (await $("#log-table").getText()).includes("/keys.json"), { timeout: 20_000 });
    await browser.saveScreenshot(join(shots, "log.png"));
  });

  await step("the History keeps both tokens and reopens one in the Inspector", async () => {
    await tab("history");
    await browser.waitUntil(async () => (await browser.$$("#history-table tbody tr")).length >= 2, { timeout: 10_000 });
    await browser.saveScreenshot(join(shots, "history.png"));
    const buttons = await browser.$$("#history-table .open-history");
    await buttons[buttons.length - 1].click();
    await browser.waitUntil(async () => (await $("#in-verdict").getText()) === "ACCEPTED", { timeout: 20_000 });
  });

  await step("the Policies screen checks a pasted policy: a step allowed, a step denied, a finding with its fix, a bad policy's line", async () => {
    await checkPolicies({ browser, tab, root, assert, shot: (name) => browser.saveScreenshot(join(shots, name)) });
  });

  await step("the Probe screen renders, and no page error was raised", async () => {
    await tab("probe");
    await $("#btn-probe").waitForDisplayed({ timeout: 10_000 });
    await browser.saveScreenshot(join(shots, "probe.png"));
    const errors = await browser.execute(() => window.__stepmintErrors);
    assert(Array.isArray(errors) && errors.length === 0, `page errors: ${JSON.stringify(errors)}`);
  });

  await step("the Probe finds a relying party's prefix check on branchName, with its minimal difference", async () => {
    await tab("issuer");
    const audience = await $(".default-audience").getText();
    assert(audience.startsWith("ari:cloud:bitbucket::workspace/"), `default audience ${audience}`);
    relyingParty = await flawedRelyingParty({ jwksUrl, ca: readFileSync(caPath), issuer: issuerUrl, audience });
    const { port } = relyingParty.address();

    await tab("probe");
    await $("#pr-url").setValue(`http://127.0.0.1:${port}/`);
    await $("#pr-claims").setValue("branchName=main");
    await $("#pr-fuzz").setValue("300");
    await $("#pr-seed").setValue("1");
    await $("#btn-probe").click();
    // The button is disabled while the run lasts; the live progress lines are kept for the log.
    const seen = new Set();
    await browser.waitUntil(
      async () => {
        const [disabled, line] = await browser.execute(() => [document.getElementById("btn-probe").disabled, document.getElementById("pr-progress").textContent]);
        const phase = /^(cases|fuzz|shrinking):/.exec(line);
        if (phase) seen.add(phase[1]);
        return !disabled;
      },
      { timeout: 120_000, interval: 250, timeoutMsg: "the probe did not finish in 120 s" },
    );
    console.log(`# live progress phases seen: ${[...seen].join(", ") || "none"}`);
    const summary = await $("#pr-progress").getText();
    assert(summary.startsWith("baseline accepted"), `the run ended with: ${summary || (await $("#toast").getText())}`);

    const differences = await browser.execute(() => Array.from(document.querySelectorAll("#pr-findings .finding-diff"), (li) => li.textContent));
    assert(differences.some((d) => d.includes("branchName")), `no finding's difference mentions branchName: ${JSON.stringify(differences)}`);
    const failed = await browser.execute(() => document.querySelectorAll('#pr-table tbody tr.fail[data-family="policy:claim:branchName"]').length);
    assert(failed > 0, "a policy:claim:branchName row failed");
    const errors = await browser.execute(() => window.__stepmintErrors);
    assert(Array.isArray(errors) && errors.length === 0, `page errors: ${JSON.stringify(errors)}`);

    // The run's summary and the findings under the sticky header, for the README's picture.
    await browser.execute(() => {
      const panel = document.getElementById("btn-probe").closest(".panel");
      window.scrollTo(0, panel.getBoundingClientRect().top + window.scrollY - 60);
    });
    await browser.saveScreenshot(join(shots, "probe-findings.png"));
    await browser.saveScreenshot(join(shots, "probe.png"));
  });
} catch (e) {
  failed++;
  console.log(`not ok - session: ${e?.stack ?? e}`);
} finally {
  if (browser) await browser.deleteSession().catch(() => {});
  relyingParty?.close();
  driver.kill();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
