// Relying party: jsonwebtoken + jwks-rsa, configured as their docs recommend:
//   https://github.com/auth0/node-jsonwebtoken#jwtverifytoken-secretorpublickey-options-callback
//     ("Need to use a JWKS?" getKey(header, callback) with jwks-rsa)
//   https://github.com/auth0/node-jwks-rsa/blob/master/EXAMPLES.md (jwksClient options: cache, requestAgent)
// One long-lived jwksClient (cache: true, the default), jwt.verify with exact issuer, audience,
// algorithms ["RS256"], clockTolerance 30 s; recommended (RP_CONFIG unset): also maxAge and the
// presence of `exp` checked by hand (the README: "optional expiration").
//
// CA trust: jwks-rsa's documented `requestAgent` option, an https.Agent({ca}). No NODE_EXTRA_CA_CERTS.
import https from "node:https";
import jwt from "jsonwebtoken";
import jwksClient from "jwks-rsa";
import { MAX_AGE, RECOMMENDED, args, serve } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();

const client = jwksClient({
  jwksUri: `${issuer}/keys.json`, // Bitbucket's jwks_uri
  cache: true,
  requestAgent: new https.Agent({ ca }),
});

function getKey(header, callback) {
  client.getSigningKey(header.kid, (err, key) => {
    // The README's getKey ignores `err` (then `key` is undefined and it throws); pass it on instead.
    if (err) return callback(err);
    callback(null, key.publicKey || key.rsaPublicKey);
  });
}

serve(port, (token) =>
  new Promise((resolve, reject) => {
    const options = { issuer, audience, algorithms: ["RS256"], clockTolerance: 30 };
    if (RECOMMENDED) options.maxAge = `${MAX_AGE}s`;
    jwt.verify(token, getKey, options, (err, payload) => {
      if (err) return reject(err);
      // DOCS-GAP: jsonwebtoken checks `exp` only when present ("optional expiration", README) and has
      // no option to require it; the user must check that it exists.
      if (RECOMMENDED && typeof payload.exp !== "number") return reject(new Error("jwt has no numeric exp"));
      resolve(payload);
    });
  }),
);
