// End-to-end test of the desktop app: the built binary under Xvfb, driven through tauri-driver
// and WebKitWebDriver with WebdriverIO. Run by scripts/desktop-e2e (which sets up Xvfb).
//
// It checks what a user does first: the app starts and shows an issuer URL; a token with a
// custom claim is minted in the Crafter and accepted in the Inspector; the JWKS URL the app
// shows, fetched with the CA it shows, holds the key that verifies that token; the alg-none case
// is refused; the Log and History screens fill; the Probe screen, pointed at a relying party
// with one flawed claim check, finds the flaw. Every screen is photographed (see `shots`).
import { spawn } from "node:child_process";
import { createPublicKey, verify as rsaVerify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const app = process.env.STEPMINT_DESKTOP_BIN ?? join(root, "target/debug/stepmint-desktop");
// Screenshots go to target/ so a test run leaves the tree clean; set STEPMINT_SCREENSHOTS to
// docs/screenshots to refresh the README's images.
const shots = resolve(root, process.env.STEPMINT_SCREENSHOTS ?? "target/e2e-screenshots");
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? "", ".cargo/bin/tauri-driver");
mkdirSync(shots, { recursive: true });

// Free ports, not fixed ones: another run (or anything else on 4444) must not answer for us.
function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}
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
function httpsJson(url, ca) {
  return new Promise((ok, fail) => {
    get(url, { ca }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? ok(JSON.parse(body)) : fail(new Error(`${url}: ${res.statusCode}`))));
    }).on("error", fail);
  });
}

// The reference validator's defaults the relying party below mirrors: anything stricter would
// read as false refusals, anything looser as findings other than the one planted.
const LEEWAY = 30;
const FORBIDDEN_HEADERS = ["crit", "b64", "zip", "jku", "x5u", "jwk", "x5c"];

/** Strict base64url (URL-safe alphabet, no padding, canonical trailing bits), or null. */
function strictPart(s) {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const bytes = Buffer.from(s, "base64url");
  return bytes.toString("base64url") === s ? bytes : null;
}

/** A JSON object, refused as the reference refuses it: bad UTF-8, duplicate members, depth over 32. */
function strictObject(bytes) {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  const value = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
  // JSON.parse keeps the last of duplicate members and nests without limit: scan for both.
  const stack = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1));
        if (top.keys.has(key)) throw new Error(`duplicate member ${key}`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      stack.push(c === "{" ? { keys: new Set(), expectKey: true } : {});
      if (stack.length > 32) throw new Error("nested too deep");
    } else if (c === "}" || c === "]") stack.pop();
    else if (c === "," && top?.keys) top.expectKey = true;
  }
  return value;
}

/**
 * A relying party with one flaw, on 127.0.0.1 and a free port: it verifies the RS256 signature
 * with the issuer's JWKS (fetched over HTTPS with the app's CA), the key, the times, the issuer,
 * the audience and the claim types as strictly as the reference validator, but compares
 * `branchName` with startsWith("main"), so a token for "main-evil" gets in.
 */
async function flawedRelyingParty({ jwksUrl, ca, issuer, audience }) {
  let jwks = null;
  const keyFor = async (kid) => {
    // Fetched again for a kid it does not know, as a relying party does after a rotation.
    if (!jwks?.keys?.some((k) => k.kid === kid)) jwks = await httpsJson(jwksUrl, ca);
    return jwks.keys.find((k) => k.kid === kid && k.kty === "RSA");
  };
  // Why the token is refused; null when it is accepted.
  const refusal = async (token) => {
    if (token.length > 16 * 1024) return "too long";
    const parts = token.split(".");
    if (parts.length !== 3) return "not three parts";
    const [h, p, s] = parts.map(strictPart);
    if (!h || !p || !s || s.length === 0) return "not strict base64url";
    const header = strictObject(h);
    if (header.alg !== "RS256") return `alg ${header.alg}`;
    const forbidden = FORBIDDEN_HEADERS.filter((k) => Object.hasOwn(header, k));
    if (forbidden.length) return `forbidden header ${forbidden.join(", ")}`;
    if (typeof header.kid !== "string") return "no kid";
    const jwk = await keyFor(header.kid);
    if (!jwk) return `unknown kid ${header.kid}`;
    if (!rsaVerify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey({ key: jwk, format: "jwk" }), s)) return "bad signature";
    const c = strictObject(p);
    for (const n of ["iss", "aud", "sub", "iat", "exp"]) if (!Object.hasOwn(c, n)) return `no ${n}`;
    for (const n of ["exp", "nbf", "iat"]) if (Object.hasOwn(c, n) && typeof c[n] !== "number") return `${n} is not a number`;
    for (const n of ["iss", "sub", "jti"]) if (Object.hasOwn(c, n) && typeof c[n] !== "string") return `${n} is not a string`;
    const auds = typeof c.aud === "string" ? [c.aud] : Array.isArray(c.aud) && c.aud.every((a) => typeof a === "string") ? c.aud : null;
    if (!auds) return "aud is not a string or a list of strings";
    if (c.iss !== issuer) return `iss ${c.iss}`;
    if (!auds.includes(audience)) return "not for this audience";
    const now = Date.now() / 1000;
    if (now >= c.exp + LEEWAY) return "expired";
    if (Object.hasOwn(c, "nbf") && c.nbf > now + LEEWAY) return "not yet valid";
    if (c.iat > now + LEEWAY) return "issued in the future";
    // The flaw: a prefix test where the declared condition is branchName=main.
    if (typeof c.branchName !== "string" || !c.branchName.startsWith("main")) return "wrong branch";
    return null;
  };
  const server = createHttpServer(async (req, res) => {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    let why = "no bearer token";
    try {
      if (bearer) why = await refusal(bearer[1]);
    } catch (e) {
      why = String(e?.message ?? e);
    }
    res.writeHead(why ? 401 : 200, { "content-type": "text/plain" });
    res.end(why ? `refused: ${why}` : "ok");
  });
  await new Promise((ok, fail) => {
    server.on("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  return server;
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
