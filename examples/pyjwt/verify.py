#!/usr/bin/env python3
"""A relying party as Python services usually write it: PyJWT + PyJWKClient, discovery over HTTPS.

    python3 verify.py --issuer ISSUER --audience AUD [--ca CA_PEM] TOKEN

Exit 0 and the claims as JSON when the token is accepted; exit 1 and the reason on stderr when
refused. Probe it with:

    stepmint probe --exec 'python3 examples/pyjwt/verify.py --issuer {issuer} --audience {audience} {token}'
"""
import argparse
import json
import ssl
import sys
import urllib.request

import jwt


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--issuer", required=True)
    p.add_argument("--audience", required=True, action="append")
    p.add_argument("--ca", help="CA certificate to trust (default: the system's, e.g. SSL_CERT_FILE)")
    p.add_argument("token")
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    with urllib.request.urlopen(a.issuer + "/.well-known/openid-configuration", context=ctx) as r:
        config = json.load(r)
    if config["issuer"] != a.issuer:
        print(f"refused: discovery names issuer {config['issuer']}", file=sys.stderr)
        return 1
    try:
        key = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ctx).get_signing_key_from_jwt(a.token)
        claims = jwt.decode(
            a.token,
            key.key,
            algorithms=["RS256"],
            audience=a.audience,
            issuer=a.issuer,
            leeway=30,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except (jwt.PyJWTError, ValueError) as err:
        print(f"refused: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
