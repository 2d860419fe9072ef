// Relying party: fast-jwt + get-jwks, configured as their docs recommend:
//   https://github.com/nearform/fast-jwt#createverifier (allowedIss, allowedAud, algorithms, clockTolerance, requiredClaims)
//   https://github.com/nearform/get-jwks#fast-jwt (key: async ({header}) => getJwks.getPublicKey({kid, alg, domain}))
//   https://github.com/nearform/get-jwks#options (jwksPath for a non-default JWKS location, fetchOptions)
// One long-lived getJwks (LRU cache of keys), one verifier; exact issuer, audience,
// algorithms ["RS256"], clockTolerance 30 000 ms; recommended (RP_CONFIG unset): also
// requiredClaims ("By default, no claim is marked as required") and maxAge (milliseconds).
//
// CA trust: get-jwks calls the global fetch with its documented `fetchOptions` (a RequestInit);
// an undici Agent({connect: {ca}}) is passed there as `dispatcher`. No NODE_EXTRA_CA_CERTS.
import { createVerifier } from "fast-jwt";
import buildGetJwks from "get-jwks";
import { Agent } from "undici";
import { MAX_AGE, RECOMMENDED, REQUIRED_CLAIMS, args, serve } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();

// get-jwks appends jwksPath to the domain: Bitbucket's JWKS is `${issuer}/keys.json`.
const getJwks = buildGetJwks({
  jwksPath: "/keys.json",
  issuersWhitelist: [issuer],
  fetchOptions: { dispatcher: new Agent({ connect: { ca } }) },
});

const verify = createVerifier({
  key: async ({ header }) =>
    getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: issuer }),
  // fast-jwt applies allowedIss/allowedAud only to claims that are present: requiredClaims closes it.
  allowedIss: issuer,
  allowedAud: audience,
  algorithms: ["RS256"],
  clockTolerance: 30_000,
  ...(RECOMMENDED ? { requiredClaims: REQUIRED_CLAIMS, maxAge: MAX_AGE * 1000 } : {}),
});

serve(port, (token) => verify(token));
