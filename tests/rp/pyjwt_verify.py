"""A relying party as Python services write it: PyJWT + PyJWKClient, discovery over HTTPS.

Usage: pyjwt_verify.py ISSUER TOKEN CA_PEM AUDIENCE
Prints the verified claims as JSON and exits 0, or prints the refusal to stderr and exits 1.
"""
import json
import ssl
import sys
import urllib.request

import jwt

issuer, token, ca, audience = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", context=ctx) as resp:
    config = json.load(resp)
if config["issuer"] != issuer:
    sys.exit(f"issuer mismatch: {config['issuer']}")
try:
    keys = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ctx)
    key = keys.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=config["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "iss", "aud"]},
    )
except jwt.PyJWTError as err:
    print(f"refused: {type(err).__name__}: {err}", file=sys.stderr)
    sys.exit(1)
print(json.dumps(claims))
