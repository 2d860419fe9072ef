#!/usr/bin/env python3
"""rp-matrix relying party `joserfc`: joserfc (Authlib's JOSE) jwt.decode + JWTClaimsRegistry.

Follows: https://jose.authlib.org/en/guide/jwt/ ("decode" with `algorithms`, then "Claims
  validation": JWTClaimsRegistry with Individual Claims Requests, `leeway`, `.validate(claims)`)
  and https://jose.authlib.org/en/guide/jwk/ ("Key Set": KeySet.import_key_set, the key picked
  by the token's `kid`). joserfc fetches no keys: the JWK Set is fetched with urllib over an ssl
  context that trusts only --ca, and cached as a KeySet (rpcommon.JwksCache).

    python3 joserfc.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables, and the import path

from joserfc import jwt  # noqa: E402
from joserfc.jwk import KeySet  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    jwks = rpcommon.JwksCache(cfg, convert=KeySet.import_key_set)
    # jwt.decode checks only the signature and that the payload is JSON: the docs leave the
    # claims to a JWTClaimsRegistry (one is enough; it reads the clock on every validate).
    if rpcommon.RECOMMENDED:
        claims_requests = jwt.JWTClaimsRegistry(
            leeway=rpcommon.LEEWAY,
            iss={"essential": True, "value": cfg.issuer},
            aud={"essential": True, "value": cfg.audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
    else:
        claims_requests = jwt.JWTClaimsRegistry(
            leeway=rpcommon.LEEWAY,
            iss={"value": cfg.issuer},
            aud={"value": cfg.audience},
        )

    def verify(token: str):
        decoded = jwt.decode(token, jwks.get(rpcommon.unverified_kid(token)), algorithms=["RS256"])
        claims_requests.validate(decoded.claims)
        return decoded.claims

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
