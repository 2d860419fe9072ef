#!/usr/bin/env python3
"""rp-matrix relying party `google-auth`: google.oauth2.id_token.verify_token with certs_url.

Follows: https://googleapis.dev/python/google-auth/latest/reference/google.oauth2.id_token.html
  ("A general purpose ID Token verifier is available as verify_token": `audience`, `certs_url` -
  "JSON in the format of {'key id': 'x509 certificate'} or a JWK Set" - and
  `clock_skew_in_seconds`; a google.auth.transport.requests.Request over a requests Session)
  and, for the claims verify_token leaves to the caller, Google's "Authenticate with a backend
  server" page (https://developers.google.com/identity/sign-in/web/backend-auth), which checks
  `iss` itself and reads the user id as idinfo['sub'].

The installed google-auth takes the JWK Set at certs_url directly (it verifies it with PyJWT,
algorithms=[the JWK's alg]); no PEM map is needed.

Caching: verify_token re-fetches certs_url on every call; the docs' remedy is the CacheControl
package around the session, which caches only what the server marks cacheable. The issuer's
keys.json sends no Cache-Control header, so CacheControl would cache nothing: it is not added,
and the long-lived Session (keep-alive to the local issuer) is the documented object kept.

    python3 google-auth.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables before any library loads

import google.auth.transport.requests  # noqa: E402
import requests  # noqa: E402
from google.oauth2 import id_token  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    certs_url = cfg.jwks_uri()
    session = requests.Session()
    session.verify = cfg.ca  # only the --ca file ...
    session.trust_env = False  # ... which REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE cannot override
    request = google.auth.transport.requests.Request(session=session)

    def verify(token: str):
        idinfo = id_token.verify_token(
            token,
            request,
            audience=cfg.audience,
            certs_url=certs_url,
            clock_skew_in_seconds=rpcommon.LEEWAY,
        )
        # DOCS-GAP: verify_token does not check `iss` (only verify_oauth2_token and
        # verify_firebase_token do); Google's backend-auth page tells callers to compare
        # idinfo['iss'] with the expected issuer themselves.
        if idinfo.get("iss") != cfg.issuer:
            raise ValueError(f"Wrong issuer: {idinfo.get('iss')!r}")
        # As the docs' example does: the user id is idinfo['sub'] (KeyError when absent).
        idinfo["sub"]
        return idinfo

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
