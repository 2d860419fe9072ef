"""The part every Python relying party of rp-matrix shares: standard library only.

Each `<id>.py` imports this module FIRST (before its library), then calls `serve(make_verifier)`.

    python3 <id>.py --issuer ISSUER --audience AUD --ca CA_PEM --port PORT

- binds 127.0.0.1:PORT (0 picks a free port) and prints `READY <port>` once listening;
- `GET <any path>` with `Authorization: Bearer <token>` answers 200 `ok` when the library
  accepts the token, 401 and a one-line reason when it refuses; every exception raised while
  verifying is a refusal, never a crash.

Trust: HTTPS to the issuer trusts ONLY the --ca file. The variables through which the
environment could add or replace trust anchors (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,
SSL_CERT_FILE, SSL_CERT_DIR) are removed from os.environ at import, before any library is
imported; proxy variables are removed too, so nothing goes anywhere but the local issuer.
"""
import os

for _name in (
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"

import sys  # noqa: E402

# Two scripts share their library's name (joserfc.py, jwcrypto.py): once this module is loaded,
# take the scripts' folder off the import path so that `import joserfc` finds the library.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import ssl  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any, Callable  # noqa: E402

LEEWAY = 30  # seconds, wherever the library has a leeway

# Which configuration to run: "recommended" (the default: every check the library's docs
# recommend for this job, required claims included) or "default" (the docs' basic call: issuer,
# audience, algorithms and leeway only). The matrix shows both rows where they differ
# (manifest `env: {"RP_CONFIG": "default"}`).
RECOMMENDED = os.environ.get("RP_CONFIG", "recommended") != "default"


@dataclass
class Config:
    issuer: str
    audience: str
    ca: str
    port: int

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts the --ca file and nothing else (no system store)."""
        # create_default_context(cafile=...) loads only that file, never the default paths.
        return ssl.create_default_context(cafile=self.ca)

    def jwks_uri(self) -> str:
        """The `jwks_uri` of the issuer's discovery document, fetched once at start.

        For the libraries that take a JWKS URL and do no discovery themselves. The document
        must name exactly our issuer (OpenID Connect Discovery 1.0, section 4.3).
        """
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=self.ssl_context()),
        )
        with opener.open(self.discovery_url, timeout=30) as r:
            doc = json.load(r)
        if doc.get("issuer") != self.issuer:
            raise SystemExit(f"discovery names issuer {doc.get('issuer')!r}, not {self.issuer!r}")
        return doc["jwks_uri"]

    def fetch_json(self, url: str) -> Any:
        """GET a JSON document over HTTPS trusting only --ca (for libraries that fetch nothing)."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=self.ssl_context()),
        )
        with opener.open(url, timeout=30) as r:
            return json.load(r)


class JwksCache:
    """The issuer's JWK Set, for libraries that take keys but fetch nothing themselves.

    Fetched over HTTPS trusting only --ca; kept `lifespan` seconds (PyJWKClient's default of
    300 s); refetched early, at most once per `cooldown` seconds, when a token names a `kid`
    the cached set lacks (a rotation). `convert` turns the JSON into the library's key-set
    object once per fetch, so verifying a token parses no keys.
    """

    def __init__(self, cfg: Config, convert: Callable[[dict], Any] = lambda d: d,
                 lifespan: float = 300, cooldown: float = 30):
        self.uri = cfg.jwks_uri()
        self._fetch = cfg.fetch_json
        self._convert = convert
        self.lifespan = lifespan
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._raw: dict = {}
        self._value: Any = None
        self._fetched = float("-inf")
        self.get()  # fail at start, not on the first request, when the issuer is unreachable

    def _kids(self) -> set:
        return {k.get("kid") for k in self._raw.get("keys", []) if isinstance(k, dict)}

    def get(self, kid: Any = None) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched
            stale = age >= self.lifespan
            unknown = isinstance(kid, str) and kid not in self._kids() and age >= self.cooldown
            if stale or unknown or self._value is None:
                raw = self._fetch(self.uri)
                if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list):
                    raise ValueError("the JWKS is not a JSON object with a `keys` array")
                self._value, self._raw = self._convert(raw), raw
                self._fetched = time.monotonic()
            return self._value


def unverified_kid(token: str) -> Any:
    """The `kid` of a compact JWS header, only to decide whether to refresh the JWKS."""
    try:
        head = token.split(".", 1)[0]
        return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("kid")
    except Exception:
        return None


def parse_args(argv=None) -> Config:
    p = argparse.ArgumentParser(description="rp-matrix relying party")
    p.add_argument("--issuer", required=True, help="the exact `iss` to accept")
    p.add_argument("--audience", required=True, help="the audience the tokens must carry")
    p.add_argument("--ca", required=True, help="PEM file of the only CA trusted for the issuer")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    a = p.parse_args(argv)
    return Config(issuer=a.issuer, audience=a.audience, ca=a.ca, port=a.port)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def serve(make_verifier: Callable[[Config], Callable[[str], Any]], argv=None) -> None:
    """Parse the arguments, build the verifier once (long-lived clients, cached keys), serve."""
    cfg = parse_args(argv)
    verify = make_verifier(cfg)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: str) -> None:
            data = (body + "\n").encode("utf-8", "replace")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _handle(self) -> None:
            # Drain any request body so keep-alive connections stay in step.
            length = int(self.headers.get("Content-Length") or 0)
            if length > 0:
                self.rfile.read(length)
            auth = self.headers.get("Authorization")
            if not auth:
                return self._answer(401, "refused: no Authorization header")
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return self._answer(401, "refused: not a Bearer token")
            try:
                verify(token)
            except BaseException as err:  # a library error is a refusal, never a crash
                if isinstance(err, (KeyboardInterrupt, SystemExit)):
                    raise
                return self._answer(401, _one_line(f"refused: {type(err).__name__}: {err}"))
            return self._answer(200, "ok")

        do_GET = do_POST = do_PUT = do_HEAD = _handle

        def log_message(self, format, *args):  # quiet: the probe sends hundreds of requests
            pass

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)
