// What both end-to-end tests (the desktop app's, run.mjs, and the web console's, console.mjs)
// use: free ports, an HTTPS JSON fetch trusting a given CA, the relying party with one planted
// flaw that the Probe screen must find, and the Policies screen's walk-through.
import { createPublicKey, verify as rsaVerify } from "node:crypto";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { get } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// Free ports, not fixed ones: another run (or anything else on 4444) must not answer for us.
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}
/** GET `url` trusting exactly `ca` (PEM); the parsed JSON of a 200 answer. */
export function httpsJson(url, ca) {
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
export async function flawedRelyingParty({ jwksUrl, ca, issuer, audience }) {
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

/** Puts `text` in a text area as a paste does: the whole value at once, then an `input` event. */
export async function paste(browser, id, text) {
  await browser.execute(
    (id, text) => {
      const area = document.getElementById(id);
      area.focus();
      area.value = text;
      area.dispatchEvent(new Event("input", { bubbles: true }));
    },
    id,
    text,
  );
}

/**
 * The Policies screen, as both end-to-end tests drive it: the example pipelines file is there;
 * a pasted AWS policy that lets build steps in and keeps deployment steps out gives an access
 * table with both, the boundary tokens (those that get in highlighted) and a finding with its
 * fix; a policy with a misspelt operator is refused under the text area with its statement and
 * line, and that line is selected. `root` is the repository; `shot(name)` saves a screenshot.
 */
export async function checkPolicies({ browser, tab, root, shot, assert }) {
  const $ = (s) => browser.$(s);
  const policy = readFileSync(join(root, "examples/policies/aws-build-steps-only.json"), "utf8");
  await tab("policies");
  assert((await $("#pol-pipelines").getValue()).includes("deployment: Production"), "the example pipelines file is pre-filled");
  await paste(browser, "pol-text", policy);
  await $("#btn-policy-check").click();
  await browser.waitUntil(async () => (await $("#pol-verdict").getText()).length > 0, { timeout: 20_000, timeoutMsg: `no verdict: ${await $("#pol-error").getText()}` });
  const verdict = await $("#pol-verdict").getText();
  assert(verdict.startsWith("PASS: aws (detected): 2 of 5 steps get in"), verdict);
  const rows = await browser.execute(() =>
    Array.from(document.querySelectorAll("#pol-access tbody tr"), (tr) => ({
      step: tr.dataset.step,
      class: tr.className,
      access: tr.cells[3].textContent,
      accessClass: tr.cells[3].className,
      why: tr.cells[4].textContent,
    })),
  );
  const row = (step) => rows.find((r) => r.step === step) ?? assert(false, `no row for ${step}: ${JSON.stringify(rows)}`);
  const build = row("Build and test");
  assert(build.class === "allowed" && build.access === "allowed" && build.accessClass === "access-allowed", JSON.stringify(build));
  const deploy = row("Deploy to production");
  assert(deploy.class === "denied" && deploy.access === "denied" && deploy.accessClass === "access-denied", JSON.stringify(deploy));
  assert(deploy.why.includes("Statement[1] (Sid NoDeploymentSteps)"), deploy.why);
  // Green and red as the page paints them, not only as classes.
  const [green, red] = await browser.execute(() => [
    getComputedStyle(document.querySelector('#pol-access tr[data-step="Build and test"] td.access-allowed')).color,
    getComputedStyle(document.querySelector('#pol-access tr[data-step="Deploy to production"] td.access-denied')).color,
  ]);
  assert(green !== red, `allowed and denied look alike: ${green}`);
  const boundary = await browser.execute(() => Array.from(document.querySelectorAll("#pol-boundary tbody tr"), (tr) => [tr.dataset.token, tr.className]));
  assert(boundary.some(([t, c]) => t === "in scope" && c === "gets-in"), `in scope is not highlighted: ${JSON.stringify(boundary)}`);
  assert(boundary.some(([t, c]) => t === "other repository" && c === "kept-out"), `other repository is not kept out: ${JSON.stringify(boundary)}`);
  const finding = await $('#pol-findings li[data-finding="aud-needs-for-any-value"]');
  assert(await finding.isExisting(), `no aud-needs-for-any-value finding: ${await $("#pol-findings").getText()}`);
  const text = await finding.getText();
  assert(text.includes("Fix: ForAnyValue:StringEquals") && text.includes("line 10"), text);
  await shot("policies.png");

  // A misspelt operator: refused, shown where it was pasted, with the statement and the line.
  const bad = policy.replace('"StringLike": { "api', '"StringLikeTypo": { "api');
  assert(bad !== policy, "the policy has the StringLike to misspell");
  await paste(browser, "pol-text", bad);
  await $("#btn-policy-check").click();
  await $("#pol-error").waitForDisplayed({ timeout: 20_000, timeoutMsg: "the refused policy's error is not shown" });
  const error = await $("#pol-error").getText();
  assert(error.includes("Statement[0] (Sid StepsOfOneRepository)") && error.includes("line 11") && error.includes("StringLikeTypo"), error);
  assert(!(await $("#pol-results").isDisplayed()), "the last report is not left standing beside the error");
  const lines = bad.split("\n");
  const start = lines.slice(0, 10).join("\n").length + 1;
  const selected = await browser.execute(() => {
    const a = document.getElementById("pol-text");
    return [a.selectionStart, a.selectionEnd];
  });
  assert(selected[0] === start && selected[1] === start + lines[10].length, `selection ${selected}, line 11 is ${start}..${start + lines[10].length}`);
  await shot("policies-error.png");
}
