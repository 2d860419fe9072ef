// Shared glue for the Node relying parties in rp-matrix/node/ (NOT a library under test).
//
//   node <id>.mjs --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
//
// Binds 127.0.0.1:PORT (0 = a free port) and prints exactly one line `READY <port>` on stdout.
// GET / with `Authorization: Bearer <token>`: 200 `ok` when the library accepts, 401 and a
// one-line reason when it refuses. Every library error is a refusal, never a crash.
import { readFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

export function args() {
  const { values } = parseArgs({
    options: {
      issuer: { type: "string" },
      audience: { type: "string" },
      ca: { type: "string" },
      port: { type: "string", default: "0" },
    },
    strict: true,
  });
  for (const k of ["issuer", "audience", "ca"]) {
    if (!values[k]) {
      console.error(`usage: node ${process.argv[1]} --issuer ISSUER --audience AUD --ca CA_PEM --port PORT (missing --${k})`);
      process.exit(2);
    }
  }
  return {
    issuer: values.issuer,
    audience: values.audience,
    caPath: values.ca,
    ca: readFileSync(values.ca, "utf8"),
    port: Number(values.port),
  };
}

/**
 * Which configuration to run: `recommended` (the default: every check the library's docs
 * recommend for this job, required claims and a maximum token age included) or `default` (the
 * docs' basic call: issuer, audience, algorithms and clock tolerance only). The matrix shows
 * both rows where they differ (manifest `env: {"RP_CONFIG": "default"}`).
 */
export const RECOMMENDED = (process.env.RP_CONFIG ?? "recommended") !== "default";

/** The claims Bitbucket always sends, required in the recommended configuration. */
export const REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat"];

/** The oldest `iat` accepted in the recommended configuration, in seconds: a step token's lifetime. */
export const MAX_AGE = 3600;

/** One line, no control characters, bounded: safe as a response body. */
export function reason(err) {
  const text = err instanceof Error ? `${err.code ?? err.name}: ${err.message}` : String(err);
  return text.replace(/[\r\n\t\x00-\x1f]+/g, " ").slice(0, 300);
}

/** The token of `Authorization: Bearer <token>`, or throws. */
export function bearer(req) {
  const h = req.headers.authorization;
  const m = typeof h === "string" ? /^Bearer (\S+)$/i.exec(h.trim()) : null;
  if (!m) throw new Error("no Bearer token in the Authorization header");
  return m[1];
}

/** Print `READY <port>` once a server (node:http or express's) is listening. */
export function ready(server) {
  server.once("listening", () => process.stdout.write(`READY ${server.address().port}\n`));
}

/** A node:http server around `verify(token) -> Promise` (resolves = accepted). */
export function serve(port, verify) {
  const server = http.createServer(async (req, res) => {
    let status = 200;
    let body = "ok";
    try {
      await verify(bearer(req));
    } catch (err) {
      status = 401;
      body = reason(err);
    }
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    res.end(body + (status === 200 ? "" : "\n"));
  });
  ready(server);
  server.listen(port, "127.0.0.1");
  return server;
}

// A stray rejection from a library's background refresh must not kill the server.
process.on("unhandledRejection", (err) => console.error(`unhandled: ${reason(err)}`));
process.on("uncaughtException", (err) => console.error(`uncaught: ${reason(err)}`));
