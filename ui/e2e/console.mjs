// End-to-end test of the web console: `stepmint serve` serves the built front end at
// /_stepmint/ui/ and its control API under /_stepmint/v1; headless Chromium (Debian's
// /usr/bin/chromium and /usr/bin/chromedriver) opens the console link serve prints, trusting
// only serve's TLS leaf (by its SPKI pin), and goes through the screens as a user would.
//
//   STEPMINT_BIN=target/debug/stepmint node ui/e2e/console.mjs
//
// Environment: STEPMINT_BIN (default <repo>/target/debug/stepmint), CHROMIUM (default
// /usr/bin/chromium), CHROMEDRIVER (default /usr/bin/chromedriver), STEPMINT_SCREENSHOTS
// (default target/console-screenshots), STEPMINT_CONSOLE_E2E_NO_TOKEN=1 to run serve without a
// control token (by default it gets a random one, so the console's token handling is tested).
// Prints `ok - ...`/`not ok - ...` per step and exits non-zero on any failure.
import { spawn } from "node:child_process";
import { X509Certificate, createHash, createPublicKey, randomBytes, verify as rsaVerify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { get, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";
import { checkPolicies, flawedRelyingParty, freePort } from "./common.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = resolve(root, process.env.STEPMINT_BIN ?? "target/debug/stepmint");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const chromedriver = process.env.CHROMEDRIVER ?? "/usr/bin/chromedriver";
// Screenshots go to target/ so a test run leaves the tree clean.
const shots = resolve(root, process.env.STEPMINT_SCREENSHOTS ?? "target/console-screenshots");
mkdirSync(shots, { recursive: true });

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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** GET over HTTPS trusting `ca`: the status and the body, whatever the status. */
function httpsGet(url, ca, headers = {}) {
  return new Promise((ok, fail) => {
    const req = get(url, { ca, headers, timeout: 15_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => ok({ status: res.statusCode, body }));
      res.on("error", fail);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: timed out`)));
    req.on("error", fail);
  });
}
async function httpsJson(url, ca) {
  const r = await httpsGet(url, ca);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return JSON.parse(r.body);
}

/** The SHA-256 of a PEM file's first certificate's SubjectPublicKeyInfo, base64: Chromium's SPKI pin. */
function spkiPin(pemFile) {
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(readFileSync(pemFile, "utf8"));
  if (!pem) throw new Error(`${pemFile}: no certificate`);
  const der = new X509Certificate(pem[0]).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

/** Starts `stepmint serve --json` and resolves with its first stdout line, parsed. */
function startServe(dataDir, token) {
  const env = { ...process.env };
  delete env.STEPMINT_CONTROL_TOKEN;
  // A chosen token comes through the environment: argv is visible to every local user.
  if (token) env.STEPMINT_CONTROL_TOKEN = token;
  const args = ["serve", "--json", "--port", "0", "--data-dir", dataDir];
  const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr += c;
    if (process.env.STEPMINT_E2E_VERBOSE) process.stderr.write(c);
  });
  const info = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stepmint serve said nothing in 60 s; stderr:\n${stderr}`)), 60_000);
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        ok(JSON.parse(line));
      } catch {
        fail(new Error(`stepmint serve's first line is not JSON: ${line}`));
      }
    });
    // Keep reading, so a full pipe never blocks the server.
    lines.on("line", () => {});
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(new Error(`cannot run ${bin}: ${e.message}`));
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`stepmint serve exited (${code}) before it listened; stderr:\n${stderr}`));
    });
  });
  return { child, info };
}

async function waitForDriver(port) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/status`);
      if (r.ok && (await r.json()).value?.ready) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error("chromedriver did not come up");
}

/** Stops a child process and waits (a little) for it to go. */
async function stopChild(child, signal = "SIGTERM") {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  if ((await Promise.race([gone.then(() => true), sleep(5000).then(() => false)])) === false) {
    child.kill("SIGKILL");
    await Promise.race([gone, sleep(2000)]);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "stepmint-console-e2e-"));
const profile = mkdtempSync(join(tmpdir(), "stepmint-console-chromium-"));
let serve;
let driver;
let browser;
let relyingParty;
try {
  // A control token the console must carry from its link to every call.
  const controlToken = process.env.STEPMINT_CONSOLE_E2E_NO_TOKEN ? null : randomBytes(18).toString("base64url");
  const started = startServe(dataDir, controlToken);
  serve = started.child;
  const info = await started.info;
  const ca = readFileSync(info.ca);
  const ws = info.workspaces?.[0] ?? {};
  const consoleUrl = info.console ?? `${info.listening}/_stepmint/ui/`;
  console.log(`# serve pid ${info.pid} on ${info.listening}; console ${consoleUrl.replace(/#token=.*/, "#token=…")}`);
  const pin = spkiPin(join(dataDir, "tls", "leaf.pem"));

  const driverPort = await freePort();
  driver = spawn(chromedriver, [`--port=${driverPort}`, "--allowed-ips=127.0.0.1"], { stdio: ["ignore", "ignore", "inherit"] });
  await waitForDriver(driverPort);
  browser = await remote({
    hostname: "127.0.0.1",
    port: driverPort,
    logLevel: "warn",
    connectionRetryTimeout: 120_000,
    capabilities: {
      browserName: "chrome",
      "wdio:enforceWebDriverClassic": true,
      "goog:chromeOptions": {
        binary: chromium,
        args: [
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          "--window-size=1280,1000",
          // Trust exactly serve's TLS leaf, not every certificate.
          `--ignore-certificate-errors-spki-list=${pin}`,
        ],
      },
    },
  });
  const $ = (s) => browser.$(s);
  const tab = async (name) => {
    await $(`#tab-${name}`).click();
    await $(`#screen-${name}`).waitForDisplayed({ timeout: 10_000 });
  };
  const pageErrors = () => browser.execute(() => window.__stepmintErrors ?? null);
  // A screen's picture without a toast left over from the step before (unless it says something).
  const shot = async (name, keepToast = false) => {
    if (!keepToast) await browser.execute(() => (document.getElementById("toast").hidden = true));
    await browser.saveScreenshot(join(shots, name));
  };
  let issuerUrl = "";
  let jwksUrl = "";
  let token = "";

  if (controlToken) {
    await step("the control API wants the token, and serve's console link carries it", async () => {
      assert(consoleUrl.includes(`#token=${encodeURIComponent(controlToken)}`) || consoleUrl.includes(`#token=${controlToken}`), "the console link has the token in its fragment");
      const statusUrl = `${info.listening}/_stepmint/v1/status`;
      const without = await httpsGet(statusUrl, ca);
      assert(without.status === 401, `without the token: ${without.status}`);
      const withIt = await httpsGet(statusUrl, ca, { Authorization: `Bearer ${controlToken}` });
      assert(withIt.status === 200, `with the token: ${withIt.status}`);
    });
  }

  await step("the console opens from serve's link and shows the workspace and issuer URL", async () => {
    // Measured for the README: serve's idle memory with the console embedded, and the time from
    // navigation to the Issuer screen showing the workspace (the page's own clock).
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${info.pid}/status`, "utf8"));
      if (rss) console.log(`# serve idle RSS with the console embedded (this debug build; scripts/bench measures the release one): ${(Number(rss[1]) / 1024).toFixed(1)} MB`);
    } catch {
      // Not Linux: no figure.
    }
    await browser.url(consoleUrl);
    await $(".issuer-url").waitForDisplayed({ timeout: 30_000 });
    const shown = await browser.execute(() => Math.round(performance.now()));
    console.log(`# first paint: navigation to the Issuer screen with its workspace in ${shown} ms`);
    issuerUrl = await $(".issuer-url").getText();
    jwksUrl = await $(".jwks-url").getText();
    const slug = ws.slug ?? "stepmint";
    assert(new RegExp(`^https://localhost:\\d+/2\\.0/workspaces/${slug}/pipelines-config/identity/oidc$`).test(issuerUrl), issuerUrl);
    if (ws.issuer) assert(issuerUrl === ws.issuer, `${issuerUrl} is serve's ${ws.issuer}`);
    assert(await $(`.workspace[data-slug="${slug}"]`).isExisting(), `workspace ${slug} shown`);
    assert((await $("#issuer-status").getText()) === "running", "issuer running");
    assert(!(await browser.getUrl()).includes("token="), "the one-time token left the address bar");
    assert(await $("#console-note").isDisplayed(), "the console note is shown");
    for (const id of ["btn-start", "btn-stop", "btn-restart", "btn-add-workspace", "btn-save-ca"]) assert(!(await $(`#${id}`).isExisting()), `#${id} is app-only`);
    assert(await $("#btn-download-ca").isExisting(), "the CA is offered as a download");
    await shot("console-issuer.png");
  });

  await step("a token with a custom claim is minted in the Crafter", async () => {
    await tab("crafter");
    await browser.waitUntil(async () => (await $("#cr-case").$$("option")).length > 1, { timeout: 10_000, timeoutMsg: "the catalogue did not load" });
    await $("#cr-claims").setValue('{ "team": "qa-console" }');
    await $("#btn-mint").click();
    await browser.waitUntil(async () => (await $("#mint-token").getValue()).length > 100, { timeout: 20_000, timeoutMsg: `no token: ${await $("#toast").getText()}` });
    token = await $("#mint-token").getValue();
    assert((await $("#mint-claims").getText()).includes('"team": "qa-console"'), "decoded claims show the custom claim");
    await shot("console-crafter.png");
  });

  await step("the Inspector accepts it, and serve's JWKS holds the key that verifies it", async () => {
    await $("#btn-open-inspector").click();
    await $("#screen-inspector").waitForDisplayed({ timeout: 10_000 });
    await browser.waitUntil(async () => (await $("#in-verdict").getText()).length > 0, { timeout: 20_000 });
    const verdict = await $("#in-verdict").getText();
    assert(verdict === "ACCEPTED", `${verdict} ${await $("#toast").getText()}`);
    assert((await $("#in-claims").getText()).includes("qa-console"), "claim shown");
    assert((await $("#in-times").getText()).includes("expires in"), "relative times shown");
    await shot("console-inspector.png");
    const jwks = await httpsJson(jwksUrl, ca);
    const [h, p, s] = token.split(".");
    const kid = JSON.parse(Buffer.from(h, "base64url").toString()).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert(jwk, `kid ${kid} published`);
    assert(rsaVerify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url")), "node:crypto verifies the signature");
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
  });

  await step("the recipe-name box has a visible label", async () => {
    await tab("crafter");
    const label = await browser.execute(() => Array.from(document.getElementById("cr-recipe-name").labels ?? [], (l) => l.textContent.trim()));
    assert(label.length === 1 && label[0].startsWith("Recipe name"), `labels: ${JSON.stringify(label)}`);
  });

  await step("a token with a long claim stays inside the Claims panel (wrapped or scrolled, not widening the page)", async () => {
    await tab("crafter");
    await $("#cr-case").selectByAttribute("value", "");
    await $("#cr-claims").setValue(JSON.stringify({ blob: "x".repeat(3000), ["long-claim-name-".repeat(20)]: 1 }));
    await $("#btn-mint").click();
    await browser.waitUntil(async () => (await $("#mint-claims").getText()).includes("xxxxxxxx"), { timeout: 20_000, timeoutMsg: `no token: ${await $("#toast").getText()}` });
    const wide = () =>
      browser.execute(() => {
        const doc = document.documentElement;
        const claims = document.getElementById("in-claims").closest(".panel").getBoundingClientRect();
        const minted = document.getElementById("mint-claims").getBoundingClientRect();
        return { page: doc.scrollWidth, view: doc.clientWidth, claimsRight: Math.round(claims.right), mintedRight: Math.round(minted.right) };
      });
    let m = await wide();
    assert(m.page <= m.view, `the Crafter is ${m.page}px wide in a ${m.view}px window`);
    assert(m.mintedRight <= m.view, `the Crafter's claims end at ${m.mintedRight}px of ${m.view}px`);
    await $("#btn-open-inspector").click();
    await browser.waitUntil(async () => (await $("#in-claims").getText()).includes("xxxxxxxx"), { timeout: 20_000 });
    m = await wide();
    assert(m.page <= m.view, `the Inspector is ${m.page}px wide in a ${m.view}px window`);
    assert(m.claimsRight <= m.view, `the Claims panel ends at ${m.claimsRight}px of ${m.view}px`);
    await tab("crafter");
    await $("#cr-claims").clearValue();
  });

  await step("the Log shows a relying party's JWKS fetch live, without a reload", async () => {
    await tab("log");
    // A reload would drop this marker.
    await browser.execute(() => (window.__consoleMarker = "kept"));
    const agent = `stepmint-console-e2e/${process.pid}`;
    const r = await httpsGet(jwksUrl, ca, { "User-Agent": agent });
    assert(r.status === 200, `JWKS answered ${r.status}`);
    await browser.waitUntil(async () => (await $("#log-table").getText()).includes(agent), { timeout: 15_000, timeoutMsg: "the JWKS fetch did not appear in the Log" });
    assert((await browser.execute(() => window.__consoleMarker)) === "kept", "the page was not reloaded");
    assert((await $("#log-table").getText()).includes("/keys.json"), "the path is shown");
    const bars = await browser.execute(() => document.querySelectorAll('#log-timeline rect.tl-bar[data-row="jwks"]').length);
    assert(bars > 0, "the timeline has a JWKS bar");
    await shot("console-log.png");
  });

  await step("the History keeps both tokens and reopens one in the Inspector", async () => {
    await tab("history");
    await browser.waitUntil(async () => (await browser.$$("#history-table tbody tr")).length >= 2, { timeout: 10_000, timeoutMsg: "fewer than two tokens in the History" });
    const text = await $("#history-table").getText();
    assert(text.includes("alg-none"), "the alg-none token is kept");
    const origins = await browser.execute(() => Array.from(document.querySelectorAll("#history-table tbody tr td:nth-child(5)"), (td) => td.textContent));
    assert(origins.every((o) => o === "console"), `the Crafter's tokens say they came from the console: ${JSON.stringify(origins)}`);
    // A mint over the control API (a script's) is listed too, as the API's.
    const auth = controlToken ? { Authorization: `Bearer ${controlToken}` } : {};
    const minted = await new Promise((ok, fail) => {
      const req = httpsRequest(`${info.listening}/_stepmint/v1/tokens`, { method: "POST", ca, headers: { "content-type": "application/json", ...auth } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => ok({ status: res.statusCode, body }));
      });
      req.on("error", fail);
      req.end("{}");
    });
    assert(minted.status === 200, `control API mint: ${minted.status} ${minted.body}`);
    await tab("issuer");
    await tab("history");
    await browser.waitUntil(async () => (await $("#history-table").getText()).includes("control API"), { timeout: 10_000, timeoutMsg: "the control API's mint is not in the History" });
    await shot("console-history.png");
    const buttons = await browser.$$("#history-table .open-history");
    await buttons[buttons.length - 1].click();
    await browser.waitUntil(async () => (await $("#in-verdict").getText()) === "ACCEPTED", { timeout: 20_000 });
  });

  await step("the Probe finds a relying party's prefix check on branchName, with live progress", async () => {
    await tab("issuer");
    const audience = await $(".default-audience").getText();
    assert(audience.startsWith("ari:cloud:bitbucket::workspace/"), `default audience ${audience}`);
    relyingParty = await flawedRelyingParty({ jwksUrl, ca, issuer: issuerUrl, audience });
    const { port } = relyingParty.address();

    await tab("probe");
    await $("#pr-url").setValue(`http://127.0.0.1:${port}/`);
    await $("#pr-claims").setValue("branchName=main");
    await $("#pr-fuzz").setValue("300");
    await $("#pr-seed").setValue("1");
    await $("#btn-probe").click();
    const seen = new Set();
    await browser.waitUntil(
      async () => {
        const [disabled, line] = await browser.execute(() => [document.getElementById("btn-probe").disabled, document.getElementById("pr-progress").textContent]);
        const phase = /^(cases|fuzz|shrinking):/.exec(line);
        if (phase) seen.add(phase[1]);
        return !disabled;
      },
      { timeout: 180_000, interval: 200, timeoutMsg: "the probe did not finish in 180 s" },
    );
    console.log(`# live progress phases seen: ${[...seen].join(", ") || "none"}`);
    const summary = await $("#pr-progress").getText();
    assert(summary.startsWith("baseline accepted"), `the run ended with: ${summary || (await $("#toast").getText())}`);
    const differences = await browser.execute(() => Array.from(document.querySelectorAll("#pr-findings .finding-diff"), (li) => li.textContent));
    assert(differences.some((d) => d.includes("branchName")), `no finding's difference mentions branchName: ${JSON.stringify(differences)}`);
    const counts = await browser.execute(() => [document.getElementById("pr-progress").textContent, document.querySelector("#pr-findings > p").textContent].map((t) => [...t.matchAll(/(\d+) findings?\b/g)].map((m) => m[1])));
    assert(counts[0].length === 1 && JSON.stringify(counts[0]) === JSON.stringify(counts[1]), `one findings count on the screen: summary ${JSON.stringify(counts[0])}, panel ${JSON.stringify(counts[1])}`);
    const answers = await browser.execute(() => {
      const heads = Array.from(document.querySelectorAll("#pr-table thead th"), (th) => th.textContent);
      const col = heads.indexOf("relying party's answer");
      const cell = document.querySelector('#pr-table tbody tr[data-family="baseline"]:not(.family) td:nth-child(' + (col + 1) + ")");
      return { col, baseline: cell?.textContent ?? null };
    });
    assert(answers.col >= 0, "the results have the relying party's answer column");
    assert(/^HTTP 2\d\d/.test(answers.baseline ?? ""), `the baseline's answer: ${answers.baseline}`);
    const failedRows = await browser.execute(() => document.querySelectorAll('#pr-table tbody tr.fail[data-family="policy:claim:branchName"]').length);
    assert(failedRows > 0, "a policy:claim:branchName row failed");
    assert(seen.size > 0, "live progress was shown while the probe ran");
    await browser.execute(() => {
      const panel = document.getElementById("btn-probe").closest(".panel");
      window.scrollTo(0, panel.getBoundingClientRect().top + window.scrollY - 60);
    });
    await shot("console-probe.png");
    await browser.execute(() => window.scrollTo(0, 0));
  });

  await step("the Faults screen sets a 503 on the JWKS, and Clear all removes it", async () => {
    await tab("faults");
    const slug = ws.slug ?? "stepmint";
    await browser.waitUntil(async () => (await $("#flt-workspace").getValue()) === slug, { timeout: 10_000, timeoutMsg: "the workspace is not offered" });
    await $("#flt-endpoint").selectByAttribute("value", "jwks");
    await $("#flt-status").setValue("503");
    await $("#btn-fault-set").click();
    await browser.waitUntil(async () => (await $("#flt-table").getText()).includes("status 503"), { timeout: 10_000, timeoutMsg: `the fault is not listed: ${await $("#toast").getText()}` });
    const broken = await httpsGet(jwksUrl, ca);
    assert(broken.status === 503, `JWKS with the fault answered ${broken.status}`);
    // The key lifecycle lists the workspace's keys, the signing one not retirable.
    assert(await $('#flt-keys tr[data-state="active"]').isExisting(), "the active key is listed");
    await shot("console-faults.png", true);
    // The Log's timeline shades the period the fault was served, with a 5xx bar.
    await tab("log");
    await browser.waitUntil(
      async () => browser.execute(() => document.querySelectorAll("#log-timeline rect.tl-fault").length > 0 && document.querySelectorAll('#log-timeline rect.tl-5xx[data-row="jwks"]').length > 0),
      { timeout: 10_000, timeoutMsg: "the timeline shows no faulted 5xx JWKS request" },
    );
    await browser.waitUntil(
      async () => browser.execute(() => Array.from(document.querySelectorAll("#log-table tbody tr.faulted td:last-child"), (td) => td.textContent).includes("status 503")),
      { timeout: 10_000, timeoutMsg: "no faulted Log row says `status 503`" },
    );
    await tab("faults");
    await $("#btn-fault-clear-all").click();
    await browser.waitUntil(async () => !(await $("#flt-table").getText()).includes("status 503"), { timeout: 10_000, timeoutMsg: "the fault is still listed" });
    const healed = await httpsGet(jwksUrl, ca);
    assert(healed.status === 200, `JWKS after Clear all answered ${healed.status}`);
  });

  await step("the Faults screen adds a staged key and retires it", async () => {
    await tab("faults");
    const before = await browser.execute(() => Array.from(document.querySelectorAll("#flt-keys tbody tr"), (tr) => tr.dataset.kid));
    await $("#flt-alg").selectByAttribute("value", "ES256");
    await $("#flt-staged").click();
    await $("#btn-key-add").click();
    let added = "";
    await browser.waitUntil(
      async () => {
        const rows = await browser.execute(() => Array.from(document.querySelectorAll("#flt-keys tbody tr"), (tr) => [tr.dataset.kid, tr.dataset.state, tr.textContent]));
        added = rows.find(([kid, state, text]) => !before.includes(kid) && state === "staged" && text.includes("ES256"))?.[0] ?? "";
        return added !== "";
      },
      { timeout: 10_000, timeoutMsg: `no staged ES256 key appeared: ${await $("#toast").getText()}` },
    );
    await $(`#flt-keys tr[data-kid="${added}"] .retire-key`).click();
    await browser.waitUntil(async () => !(await $(`#flt-keys tr[data-kid="${added}"]`).isExisting()), { timeout: 10_000, timeoutMsg: `${added} was not retired: ${await $("#toast").getText()}` });
    assert(!(await $('#flt-keys tr[data-state="active"] .retire-key').isExisting()), "the signing key offers no Retire");
  });

  await step("the Policies screen checks a pasted policy: a step allowed, a step denied, a finding with its fix, a bad policy's line", async () => {
    await checkPolicies({ browser, tab, root, assert, shot: (name) => shot(`console-${name}`) });
  });

  await step("no page error was raised", async () => {
    const errors = await pageErrors();
    assert(Array.isArray(errors) && errors.length === 0, `page errors: ${JSON.stringify(errors)}`);
  });

  await step("a page on another origin cannot frame the console (frame-ancestors, X-Frame-Options)", async () => {
    // The attack: a page elsewhere frames the console (its link, token and all) and gets the
    // user to click Rotate in it. A plain HTTP server on 127.0.0.1 and a free port plays that
    // page; a frame of its own origin beside the console's shows that a framed document loads.
    const framer = createHttpServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      if (req.url === "/own") return res.end("<!doctype html><title>own</title><p id=own-frame>framed</p>");
      res.end(
        `<!doctype html><title>elsewhere</title>` +
          `<iframe id=own src="/own" onload="window.ownLoaded = true"></iframe>` +
          `<iframe id=victim src="${consoleUrl.replace(/"/g, "&quot;")}" onload="window.victimLoaded = true" width=1200 height=800></iframe>`,
      );
    });
    await new Promise((ok, fail) => {
      framer.on("error", fail);
      framer.listen(0, "127.0.0.1", ok);
    });
    try {
      await browser.url(`http://127.0.0.1:${framer.address().port}/`);
      await browser.waitUntil(async () => browser.execute(() => window.ownLoaded === true && window.victimLoaded === true), {
        timeout: 30_000,
        timeoutMsg: "the frames never finished loading",
      });
      await browser.switchFrame(await $("#own"));
      assert(await $("#own-frame").isExisting(), "the page's own frame did not load: the check below would prove nothing");
      await browser.switchFrame(null);
      await browser.switchFrame(await $("#victim"));
      // Refused, the frame holds Chromium's error page; allowed, it holds the console's.
      const inFrame = await browser.execute(() => ({ href: location.href, tabs: document.querySelectorAll("[data-screen]").length }));
      await browser.switchFrame(null);
      assert(inFrame.tabs === 0, `the console loaded inside another origin's frame: ${inFrame.href}`);
      assert(!inFrame.href.startsWith(info.listening), `the frame shows ${inFrame.href}`);
      console.log(`# framed console refused; the frame shows ${inFrame.href}`);
    } finally {
      await browser.switchFrame(null).catch(() => {});
      framer.close();
    }
  });
} catch (e) {
  failed++;
  console.log(`not ok - session: ${e?.stack ?? e}`);
} finally {
  if (browser) await browser.deleteSession().catch(() => {});
  relyingParty?.close();
  await stopChild(driver);
  await stopChild(serve);
  for (const dir of [profile, dataDir]) rmSync(dir, { recursive: true, force: true });
}
console.log(`console e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
