// Relying party: express-oauth2-jwt-bearer (Auth0) on express, configured as its docs recommend:
//   https://github.com/auth0/node-oauth2-jwt-bearer/tree/main/packages/express-oauth2-jwt-bearer#getting-started
//   https://auth0.github.io/node-oauth2-jwt-bearer/interfaces/AuthOptions.html (agent, clockTolerance, tokenSigningAlg)
// auth({issuerBaseURL, audience, tokenSigningAlg: "RS256", clockTolerance: 30}): it discovers
// `${issuerBaseURL}/.well-known/openid-configuration`, takes `issuer` and `jwks_uri` from it and
// caches both (one middleware instance for the life of the server). It requires `exp` itself.
// Recommended (RP_CONFIG unset): also maxTokenAge (seconds; AuthOptions), which requires `iat`.
//
// CA trust: the documented `agent` option (an http(s).Agent used for discovery and the JWKS),
// an https.Agent({ca}). No NODE_EXTRA_CA_CERTS.
import https from "node:https";
import express from "express";
import { auth } from "express-oauth2-jwt-bearer";
import { MAX_AGE, RECOMMENDED, args, ready, reason } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();

const app = express();
app.get(
  "/",
  auth({
    issuerBaseURL: issuer,
    audience,
    tokenSigningAlg: "RS256",
    clockTolerance: 30,
    ...(RECOMMENDED ? { maxTokenAge: MAX_AGE } : {}),
    agent: new https.Agent({ ca }),
  }),
  (req, res) => res.type("text/plain").send("ok"),
);
// The docs leave errors to Express's error handling; every error here is a refusal (401, one line).
app.use((err, req, res, next) => {
  res.status(401).type("text/plain").send(`${reason(err)}\n`);
});

ready(app.listen(port, "127.0.0.1"));
