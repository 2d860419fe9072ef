// Relying party: aws-jwt-verify, configured as its docs recommend:
//   https://github.com/awslabs/aws-jwt-verify#verifying-jwts-from-any-oidc-compatible-idp
//   https://github.com/awslabs/aws-jwt-verify#configuring-the-jwks-response-timeout-and-other-http-options-with-fetcher
// One long-lived JwtVerifier (JwtRsaVerifier is its deprecated alias since 5.0.0) with its own
// SimpleJwksCache; exact issuer, audience, jwksUri; graceSeconds 30 (its clock tolerance).
// The README says "Standard claims, such as `exp` and `nbf`, are checked automatically", so no
// exp-presence check is added (the probe shows whether a token without `exp` gets through).
// The algorithm comes from the JWT header, matched against the JWK's `alg` when the JWK has one
// (Bitbucket's JWKs do: "RS256").
//
// CA trust: SimpleFetcher's documented `defaultRequestOptions` are Node https.request options,
// so `ca` goes there. No NODE_EXTRA_CA_CERTS.
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleFetcher } from "aws-jwt-verify/https";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { args, serve } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();

const verifier = JwtVerifier.create(
  {
    issuer,
    audience,
    jwksUri: `${issuer}/keys.json`, // Bitbucket's jwks_uri
    graceSeconds: 30,
    // DOCS-GAP: there is no `algorithms` option; the README's "Advanced: enforcing the algorithm"
    // section tells users to code a custom JWT check on the header's `alg`.
    customJwtCheck: ({ header }) => {
      if (header.alg !== "RS256") throw new Error(`alg ${header.alg} is not RS256`);
    },
  },
  {
    jwksCache: new SimpleJwksCache({
      fetcher: new SimpleFetcher({ defaultRequestOptions: { ca, responseTimeout: 3000 } }),
    }),
  },
);

serve(port, (token) => verifier.verify(token));
