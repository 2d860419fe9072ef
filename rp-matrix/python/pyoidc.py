#!/usr/bin/env python3
"""rp-matrix relying party `pyoidc`: pyoidc (package `oic`) Client + IdToken.from_jwt/verify.

Follows: https://pyoidc.readthedocs.io/en/latest/examples/rp.html ("Client" with
  OicClientSettings, "Provider Info discovery": client.provider_config(issuer), which fetches
  the discovery document and loads jwks_uri into client.keyjar) and
  https://pyoidc.readthedocs.io/en/latest/settings.html (`verify_ssl`: "If set to a filename
  this is used as a certificate bundle"). The token is checked as the Client checks an ID Token
  in a response (oic.oic.message.verify_id_token): IdToken().from_jwt(token, keyjar=...,
  algs=client.sign_enc_algs("id_token")) - {"sign": "RS256"}: without `algs`, from_jwt passes
  `alg: none` unverified - then idt.verify(iss=provider issuer, client_id=AUD, skew=30).

    python3 pyoidc.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT
"""
import rpcommon  # first: clears the CA/proxy environment variables before any library loads

from oic.oic import Client  # noqa: E402
from oic.oic.message import IdToken  # noqa: E402
from oic.utils.authn.client import CLIENT_AUTHN_METHOD  # noqa: E402
from oic.utils.settings import OicClientSettings  # noqa: E402


def make_verifier(cfg: rpcommon.Config):
    # One long-lived Client: its KeyJar caches the issuer's JWKS (KeyBundle, 300 s) and
    # refetches it when no key fits. verify_ssl = the --ca file, for discovery and the JWKS.
    # pyoidc and its KeyBundle call requests with verify=<path>, which REQUESTS_CA_BUNDLE /
    # CURL_CA_BUNDLE would override: rpcommon removed those from os.environ at import.
    client = Client(
        client_id=cfg.audience,
        client_authn_method=CLIENT_AUTHN_METHOD,
        settings=OicClientSettings(verify_ssl=cfg.ca),
    )
    provider_info = client.provider_config(cfg.issuer)  # raises when `issuer` differs
    # TLS for the JWKS too: for a jwks_uri containing `/localhost:` (or `/localhost/`), KeyJar.add
    # gives the KeyBundle verify_ssl=False whatever the settings say (oic/utils/keyio.py). The
    # matrix serves its issuer as 127.0.0.1 for that reason; refuse to start rather than be
    # measured with the JWKS fetched unchecked again.
    bundles = client.keyjar.issuer_keys.get(provider_info["issuer"], [])
    if not bundles or any(kb.verify_ssl != cfg.ca for kb in bundles):
        raise SystemExit(f"the issuer's key bundles do not verify TLS against --ca: {[kb.verify_ssl for kb in bundles]}")
    algs = client.sign_enc_algs("id_token")  # {"sign": "RS256"} (pyoidc's default for ID Tokens)

    def verify(token: str):
        idt = IdToken().from_jwt(token, keyjar=client.keyjar, algs=algs)
        idt.verify(
            iss=provider_info["issuer"],
            client_id=cfg.audience,
            keyjar=client.keyjar,
            skew=rpcommon.LEEWAY,
        )
        return idt.to_dict()

    return verify


if __name__ == "__main__":
    rpcommon.serve(make_verifier)
