#!/usr/bin/env python3
"""rp-matrix relying party `python-jose`: python-jose's jose.jwt.decode with the JWK Set.

Follows: https://python-jose.readthedocs.io/en/latest/jwt/api.html (jose.jwt.decode: `key` may
  be "a dict ... for a JWK set as defined by RFC 7517", `algorithms`, `audience`, `issuer`,
  `options` with require_* and `leeway`). python-jose fetches no keys: the JWK Set is fetched
  with urllib over an ssl context that trusts only --ca, and cached (rpcommon.JwksCache).

    python3 python-jose.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables before any library loads

from jose import jwt  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    jwks = rpcommon.JwksCache(cfg)
    options = {"leeway": rpcommon.LEEWAY}
    if rpcommon.RECOMMENDED:
        options.update(require_aud=True, require_iat=True, require_exp=True, require_iss=True, require_sub=True)

    def verify(token: str):
        return jwt.decode(
            token,
            jwks.get(rpcommon.unverified_kid(token)),
            algorithms=["RS256"],
            audience=cfg.audience,
            issuer=cfg.issuer,
            options=options,
        )

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
