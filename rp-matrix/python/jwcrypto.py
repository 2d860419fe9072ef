#!/usr/bin/env python3
"""rp-matrix relying party `jwcrypto`: jwcrypto's jwt.JWT with a JWKSet and check_claims.

Follows: https://jwcrypto.readthedocs.io/en/latest/jwt.html (class JWT: `key` "A JWKSet can also
  be used" - the key is picked by `kid`; `algs`; `check_claims` "claims that must be present in
  the token, if the value is not None the claim must match exactly"; `expected_type`; the
  `leeway` property, default 60 s, set to 30 s here, which is why the token is given to
  deserialize() after construction instead of to the constructor) and
  https://jwcrypto.readthedocs.io/en/latest/jwk.html (JWKSet.from_json). jwcrypto fetches no
  keys: the JWK Set is fetched with urllib over an ssl context that trusts only --ca, and
  cached as a JWKSet (rpcommon.JwksCache).

    python3 jwcrypto.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables, and the import path

import json  # noqa: E402

from jwcrypto import jwk, jwt  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    jwks = rpcommon.JwksCache(cfg, convert=lambda d: jwk.JWKSet.from_json(json.dumps(d)))
    check_claims = {"iss": cfg.issuer, "aud": cfg.audience}
    if rpcommon.RECOMMENDED:
        check_claims.update(
            sub=None,  # None: must be present, any value
            exp=None,  # None: must be present and is checked against now (with the leeway)
            iat=None,  # None: must be present
        )

    def verify(token: str):
        t = jwt.JWT(algs=["RS256"], check_claims=check_claims, expected_type="JWS")
        t.leeway = rpcommon.LEEWAY
        t.deserialize(token, key=jwks.get(rpcommon.unverified_kid(token)))
        return json.loads(t.claims)

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
