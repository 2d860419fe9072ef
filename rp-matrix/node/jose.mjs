// Relying party: jose (panva/jose), configured as its docs recommend:
//   https://github.com/panva/jose/blob/main/docs/jwt/verify/functions/jwtVerify.md
//   https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md
//   https://github.com/panva/jose/blob/main/docs/jwks/remote/variables/customFetch.md
// One long-lived createRemoteJWKSet (it caches the JWKS and refetches on an unknown kid),
// jwtVerify with exact issuer, audience, algorithms ["RS256"], clockTolerance 30 s; recommended
// (RP_CONFIG unset): also requiredClaims (the docs: jwtVerify checks a claim "only when present"
// unless required) and maxTokenAge (which requires iat), as the jwtVerify options page describes.
//
// CA trust: jose v6 uses fetch and has no `agent` option; its documented `customFetch` hook is
// given undici's fetch with an undici Agent({connect: {ca}}). NODE_EXTRA_CA_CERTS is not needed.
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { Agent, fetch as undiciFetch } from "undici";
import { MAX_AGE, RECOMMENDED, REQUIRED_CLAIMS, args, serve } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();
const dispatcher = new Agent({ connect: { ca } });

// Bitbucket publishes the JWKS at `${issuer}/keys.json` (its discovery document's jwks_uri).
const JWKS = createRemoteJWKSet(new URL(`${issuer}/keys.json`), {
  [customFetch]: (url, options) => undiciFetch(url, { ...options, dispatcher }),
});

serve(port, (token) =>
  jwtVerify(token, JWKS, {
    issuer,
    audience,
    algorithms: ["RS256"],
    clockTolerance: 30,
    ...(RECOMMENDED ? { requiredClaims: REQUIRED_CLAIMS, maxTokenAge: MAX_AGE } : {}),
  }),
);
