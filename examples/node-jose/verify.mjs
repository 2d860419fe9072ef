// A relying party in Node: openid-client discovers the issuer, jose verifies the token.
//
//   NODE_EXTRA_CA_CERTS=$(stepmint ca path) node verify.mjs ISSUER AUDIENCE TOKEN
//
// Exit 0 and the claims when accepted, 1 and the reason when refused. Probe it with:
//   stepmint probe --exec 'node examples/node-jose/verify.mjs ISSUER AUD {token}'
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";

const [issuer, audience, token] = process.argv.slice(2);
if (!issuer || !audience || !token) {
  console.error("usage: node verify.mjs ISSUER AUDIENCE TOKEN");
  process.exit(2);
}
try {
  // Bitbucket's discovery document has no authorization_endpoint; openid-client only reads it.
  const config = await client.discovery(new URL(issuer), "relying-party");
  const meta = config.serverMetadata();
  if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${meta.issuer}`);
  const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ["RS256"],
    clockTolerance: 30,
    requiredClaims: ["exp", "iat", "sub"],
  });
  console.log(JSON.stringify(payload));
} catch (err) {
  console.error(`refused: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
