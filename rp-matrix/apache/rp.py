#!/usr/bin/env python3
"""Apache httpd with Debian's libapache2-mod-auth-openidc as an OAuth 2.0 resource server, run
with the relying-party matrix's interface:

    python3 rp.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT

It writes a minimal httpd configuration into a temporary folder, starts `apache2 -DFOREGROUND`
on 127.0.0.1, prints `READY <port>`, and serves `ok` (200) to a bearer token mod_auth_openidc
accepts, 401 otherwise. Configured as mod_auth_openidc's documentation describes for JWT
access tokens validated against a JWKS (https://github.com/OpenIDC/mod_auth_openidc/wiki/OAuth-2.0-Resource-Server):
`OIDCOAuthVerifyJwksUri` and `OIDCCABundlePath`, `AuthType oauth20`, and the claim checks as
`Require claim` lines inside `<RequireAll>`.

DOCS-GAP: mod_auth_openidc checks neither `iss` nor `aud` of a bearer token unless told with
`Require claim`: both are here, as a careful user following the docs adds them. With
`RP_CONFIG=default`, the wiki's basic example instead: `Require valid-user` (any token whose
signature a key of the JWKS verifies, and that has not expired).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MODULES = "/usr/lib/apache2/modules"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--issuer", required=True)
    a.add_argument("--audience", required=True)
    a.add_argument("--ca", required=True)
    a.add_argument("--port", type=int, default=0)
    args = a.parse_args()
    if shutil.which("apache2") is None or not os.path.exists(f"{MODULES}/mod_auth_openidc.so"):
        sys.exit("apache2 and libapache2-mod-auth-openidc are not installed")
    port = args.port or free_port()
    if os.environ.get("RP_CONFIG") == "default":
        authz = "  Require valid-user"
    else:
        authz = f"""  <RequireAll>
    Require claim iss:{args.issuer}
    Require claim aud:{args.audience}
  </RequireAll>"""
    work = tempfile.mkdtemp(prefix="stepmint-apache-")
    os.chmod(work, 0o755)
    # The worker user must read the CA; the data directory keeps its copy private.
    ca = os.path.join(work, "ca.pem")
    shutil.copyfile(args.ca, ca)
    os.chmod(ca, 0o644)
    docs = os.path.join(work, "htdocs")
    os.makedirs(docs)
    with open(os.path.join(docs, "index.html"), "w") as f:
        f.write("ok")
    for p in (docs, os.path.join(docs, "index.html")):
        os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
    conf = os.path.join(work, "httpd.conf")
    with open(conf, "w") as f:
        f.write(f"""ServerRoot "{work}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{work}/httpd.pid"
ErrorLog "{work}/error.log"
LogLevel warn auth_openidc:warn
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule mime_module {MODULES}/mod_mime.so
TypesConfig /etc/mime.types
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
User www-data
Group www-data
DocumentRoot "{docs}"
DirectoryIndex index.html
OIDCOAuthVerifyJwksUri {args.issuer}/keys.json
OIDCCABundlePath {ca}
OIDCOAuthSSLValidateServer On
<Location />
  AuthType oauth20
{authz}
</Location>
""")
    env = dict(os.environ, APACHE_RUN_DIR=work, APACHE_LOCK_DIR=work, APACHE_LOG_DIR=work)
    p = subprocess.Popen(["apache2", "-f", conf, "-DFOREGROUND"], env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        if p.poll() is not None:
            sys.exit(f"apache2 exited: {open(os.path.join(work, 'error.log')).read()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print(f"READY {port}", flush=True)

    def stop(*_):
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    p.wait()
    stop()


if __name__ == "__main__":
    main()
