#!/usr/bin/env python3
"""rp-matrix relying party `pyjwt`: PyJWT with PyJWKClient.

Follows: https://pyjwt.readthedocs.io/en/stable/usage.html
  "Retrieve RSA signing keys from a JWKS endpoint" (PyJWKClient + get_signing_key_from_jwt,
  then jwt.decode with algorithms=["RS256"] and audience) and "OIDC Login Flow" (jwks_uri from
  the discovery document); https://pyjwt.readthedocs.io/en/stable/api.html for
  `issuer`, `leeway` and `options={"require": [...]}`.

    python3 pyjwt.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables before any library loads

import jwt  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    # One long-lived client: it caches the JWK Set (lifespan 300 s by default) and refetches
    # once on an unknown kid. Trust: the ssl_context built from --ca only.
    jwks_client = jwt.PyJWKClient(cfg.jwks_uri(), ssl_context=cfg.ssl_context())

    def verify(token: str):
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            signing_key,
            algorithms=["RS256"],
            audience=cfg.audience,
            issuer=cfg.issuer,
            leeway=rpcommon.LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]} if rpcommon.RECOMMENDED else None,
        )

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
