// What both end-to-end tests (the desktop app's, run.mjs, and the web console's, console.mjs)
// use: free ports, an HTTPS JSON fetch trusting a given CA, and the relying party with one
// planted flaw that the Probe screen must find.
import { createPublicKey, verify as rsaVerify } from "node:crypto";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { get } from "node:https";

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
