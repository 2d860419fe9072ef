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
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "stepmint")
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
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=folder, check=True)
    return os.path.join(folder, "target", "release")


def rust_version(package):
    lock = os.path.join(ROOT, "rp-matrix", "rust", "Cargo.lock")
    text = open(lock).read() if os.path.exists(lock) else ""
    marker = f'name = "{package}"\nversion = "'
    i = text.find(marker)
    return text[i + len(marker):text.find('"', i + len(marker))] if i >= 0 else "?"


RUST = [
    ("jsonwebtoken-rs", "jsonwebtoken", "jsonwebtoken", "JWKS by kid, DecodingKey::from_jwk, Validation RS256 with issuer, audience, required exp/iss/aud/sub, leeway 30"),
    ("openidconnect-rs", "openidconnect", "openidconnect", "discovery, CoreIdTokenVerifier::new_public_client(client id = audience, issuer, JWKS), no nonce"),
    ("josekit-rs", "josekit", "josekit", "RS256 verifier from the JWK by kid, decode_with_verifier, JwtPayloadValidator issuer + audience + time"),
    ("jwt-simple-rs", "jwt_simple", "jwt-simple", "RS256PublicKey from the JWK, verify_token with allowed issuer and audience, 30 s tolerance"),
]


def relying_parties(py, node, rust_dir):
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
        for rid, binary, package, config in RUST:
            out.append({"id": rid, "ecosystem": "rust", "package": package, "version": rust_version(package), "config": config, "cmd": [os.path.join(rust_dir, binary)]})
    if shutil.which("apache2") and os.path.exists("/usr/lib/apache2/modules/mod_auth_openidc.so"):
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-auth-openidc"], capture_output=True, text=True).stdout.strip() or "?"
        out.append({"id": "mod-auth-openidc", "ecosystem": "server", "package": "libapache2-mod-auth-openidc", "version": version,
                    "config": "Apache httpd, AuthType oauth20, OIDCOAuthVerifyJwksUri + OIDCCABundlePath, Require claim iss and aud in RequireAll",
                    "cmd": [sys.executable, os.path.join(ROOT, "rp-matrix", "apache", "rp.py")]})
    else:
        log("apache2 with mod_auth_openidc is not installed: left out (apt-get install apache2 libapache2-mod-auth-openidc)")
    return [r for r in out if not ONLY or r["id"] in ONLY]


class Issuer:
    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="stepmint-rp-matrix-")
        self.proc = subprocess.Popen([BIN, "serve", "--json", "--port", "0", "--data-dir", self.data], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.issuer = info["workspaces"][0]["issuer"]
        self.ca = info["ca"]
        token = subprocess.run([BIN, "mint", "--json", "--data-dir", self.data], capture_output=True, text=True, check=True).stdout
        self.audience = json.loads(token)["claims"]["aud"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def start_rp(rp, issuer):
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")}
    for k, v in rp.get("env", {}).items():
        env[k] = v.replace("{ca}", issuer.ca)
    p = subprocess.Popen(rp["cmd"] + ["--issuer", issuer.issuer, "--audience", issuer.audience, "--ca", issuer.ca, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith("READY "):
            return p, int(line.split()[1])
        if not line and p.poll() is not None:
            break
    p.kill()
    raise RuntimeError(f"{rp['id']} did not start: {p.stderr.read()[-2000:]}")


def probe(rp, issuer):
    p, port = start_rp(rp, issuer)
    try:
        out = subprocess.run([BIN, "probe", "--url", f"http://127.0.0.1:{port}/", "--audience", issuer.audience, "--fuzz", str(FUZZ), "--seed", str(SEED), "--concurrency", "1", "--timeout", "10", "--json", "--data-dir", issuer.data], capture_output=True, text=True)
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
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
    "duplicate-aud-good-last": ("a token whose `aud` reads as the attacker's audience to one parser and yours to another (a gateway and a service that disagree)", "parse JSON strictly: refuse duplicate members", "RFC 7515 §5.2, RFC 8259 §4"),
    "iat-future": ("tokens dated ahead (a signing clock pushed forward keeps them usable longer than their issuer meant)", "refuse `iat` beyond the leeway in the future", "OIDC Core §3.1.3.7 step 10"),
    "policy-time-iat-beyond-leeway": ("tokens dated ahead of the declared leeway", "refuse `iat` beyond the leeway in the future", "OIDC Core §3.1.3.7"),
    "missing-iat": ("a token with no issue time: no maximum age can apply", "require `iat` (Bitbucket always sends it)", "OIDC Core §2 (iat REQUIRED)"),
    "non-canonical-base64url": ("several encodings of one signed token (malleability: replay caches and deny lists keyed on the token text miss it)", "decode base64url strictly: no spare bits set", "RFC 4648 §3.5, RFC 7515 §2"),
    "padded-base64url": ("several encodings of one token (malleability)", "refuse padding: JOSE's base64url has none", "RFC 7515 §2"),
    "missing-kid": ("a token checked against every published key (harmless with one key; with a key of lesser trust published, a confusion)", "require `kid` and use only that key (Bitbucket always sends one)", "RFC 7515 §4.1.4"),
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
    "b64-false": ("a payload the verifier reads differently from what was signed", "refuse `b64: false` unless implemented and critical", "RFC 7797"),
    "ps256-with-rs256-key": ("a signature scheme the key was not published for (algorithm confusion)", "pin the algorithm to the key's", "RFC 7518 §3.1"),
}


def family_of(name, family):
    if family.startswith("policy:claim:"):
        return "policy:claim"
    return family


def main():
    started = time.time()
    for tool in ["npm", "node"]:
        if shutil.which(tool) is None:
            log(f"{tool} is missing: the Node relying parties are left out")
    py = install_python()
    node = shutil.which("npm") is not None and install_node()
    rust_dir = build_rust()
    rps = relying_parties(py, node, rust_dir)
    log(f"{len(rps)} relying parties; installs took {time.time() - started:.0f} s")
    issuer = Issuer()
    results = []
    cases = {}
    try:
        for rp in rps:
            t = time.time()
            report = probe(rp, issuer)
            rows = [report["baseline"]] + report["rows"]
            res = {}
            for r in rows:
                res[r["case"]] = OBSERVED.get(r["observed"], "error")
                cases.setdefault(r["case"], {"name": r["case"], "family": r.get("family", ""), "expected": r["expected"]})
            findings = []
            for f in (report.get("fuzz") or {}).get("findings", []):
                findings.append({"difference": f["difference"], "severity": f["severity"], "occurrences": f["occurrences"]})
            fuzz = report.get("fuzz") or {}
            results.append({
                "id": rp["id"], "ecosystem": rp["ecosystem"], "package": rp["package"], "version": rp["version"], "config": rp["config"],
                "results": dict(sorted(res.items())),
                "fuzz": {"seed": SEED, "sent": fuzz.get("sent", 0), "findings": sorted(findings, key=lambda x: json.dumps(x["difference"]))},
            })
            failed = [r["case"] for r in rows[1:] if r["verdict"] == "fail"]
            log(f"{rp['id']}: baseline {report['baseline']['observed']}, {len(failed)} hostile accepted, {len(findings)} fuzz findings ({time.time() - t:.0f} s)")
    finally:
        issuer.stop()
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[-1]
    doc = {
        "generated": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "stepmint": version,
        "relying_parties": results,
        "cases": [cases[k] for k in sorted(cases)],
    }
    path = os.path.join(DOCS, "rp-matrix.json")
    if CHECK:
        old = json.load(open(path))
        diff = []
        before = {r["id"]: r for r in old["relying_parties"]}
        for r in results:
            o = before.get(r["id"])
            if o is None:
                diff.append(f"{r['id']}: not in the committed matrix")
                continue
            if o["version"] != r["version"]:
                diff.append(f"{r['id']}: version {o['version']} -> {r['version']}")
            for case in sorted(set(o["results"]) | set(r["results"])):
                a, b = o["results"].get(case), r["results"].get(case)
                if a != b:
                    diff.append(f"{r['id']}: {case}: {a} -> {b}")
        log(f"checked {len(results)} relying parties in {time.time() - started:.0f} s")
        if diff:
            print("\n".join(diff))
            sys.exit("rp-matrix: results differ from docs/rp-matrix.json (run scripts/rp-matrix to regenerate)")
        print(f"rp-matrix: {len(results)} relying parties, {len(doc['cases'])} cases: as committed")
        return
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    write_markdown(doc)
    write_svg(doc)
    log(f"wrote docs/rp-matrix.json, .md, .svg in {time.time() - started:.0f} s")


def write_markdown(doc):
    rps = doc["relying_parties"]
    cases = doc["cases"]
    mark = {"accepted": "✔", "refused": "·", "error": "E", "skipped": "–"}
    lines = [
        "# The relying-party matrix",
        "",
        f"Generated by `scripts/rp-matrix` on {doc['generated']} with Stepmint {doc['stepmint']}: each verifier configured as its own documentation recommends (the `config` column; the doc page is named in each relying party's source under `rp-matrix/`), probed with the catalogue, the policy-boundary cases for its declared audience and issuer, and {FUZZ} generated tokens (seed {SEED}).",
        "",
        "![heat map](rp-matrix.svg)",
        "",
        "| id | ecosystem | package | version | configuration |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rps:
        lines.append(f"| `{r['id']}` | {r['ecosystem']} | {r['package']} | {r['version']} | {r['config'].replace('|', '/')} |")
    lines += ["", "## Wrongly accepted tokens", ""]
    any_bad = False
    for r in rps:
        bad = [c for c in cases if c["expected"] == "refuse" and r["results"].get(c["name"]) == "accepted"]
        finds = r["fuzz"]["findings"]
        if not bad and not finds:
            continue
        any_bad = True
        lines.append(f"### {r['id']} ({r['package']} {r['version']})")
        lines.append("")
        for c in bad:
            if c["name"] in NOTES:
                gain, fix, ref = NOTES[c["name"]]
            else:
                gain, fix = GAINS.get(family_of(c["name"], c["family"]), GAINS.get(c["family"], ("a token a strict relying party refuses", "configure the check this case names")))
                ref = ""
            ref = f" ({ref})" if ref else ""
            lines.append(f"- `{c['name']}` ({c['family']}). Gains: {gain}. Avoided by: {fix}{ref}.")
        for f in finds:
            lines.append(f"- fuzz finding ({f['severity']}, {f['occurrences']} tokens): `{'; '.join(f['difference'])}`")
        lines.append("")
    if not any_bad:
        lines.append("None: every relying party refused every hostile token.")
    lines += ["", "## Every case", "", "✔ accepted, · refused, E no answer, – not sent. A case whose expected outcome is `refuse` and is marked ✔ is a finding.", ""]
    head = "| case | family | expected | " + " | ".join(f"`{r['id']}`" for r in rps) + " |"
    lines += [head, "| --- | --- | --- | " + " | ".join("---" for _ in rps) + " |"]
    for c in cases:
        cells = [mark.get(r["results"].get(c["name"], "skipped"), "?") for r in rps]
        lines.append(f"| `{c['name']}` | {c['family']} | {c['expected']} | " + " | ".join(cells) + " |")
    with open(os.path.join(DOCS, "rp-matrix.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_svg(doc):
    rps = doc["relying_parties"]
    cases = [c for c in doc["cases"] if c["name"] != "valid"]
    cell, left, top = 8, 240, 120
    width = left + cell * len(cases) + 20
    height = top + 16 * len(rps) + 40
    colour = {"ok": "#2e7d32", "bad": "#c62828", "strict": "#f9a825", "error": "#9e9e9e"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14">Relying-party matrix: {len(rps)} verifiers x {len(cases)} cases (red: hostile token accepted; amber: acceptable token refused; grey: no answer)</text>']
    for j, c in enumerate(cases):
        x = left + j * cell
        if j % 10 == 0:
            out.append(f'<text x="{x}" y="{top - 6}" transform="rotate(-60 {x} {top - 6})" font-size="9">{html.escape(c["name"])}</text>')
    for i, r in enumerate(rps):
        y = top + i * 16
        out.append(f'<text x="10" y="{y + 11}">{html.escape(r["id"])} {html.escape(r["version"])}</text>')
        for j, c in enumerate(cases):
            got = r["results"].get(c["name"], "skipped")
            if got in ("error", "skipped"):
                k = "error"
            elif got == "accepted" and c["expected"] == "refuse":
                k = "bad"
            elif got == "refused" and c["expected"] == "accept":
                k = "strict"
            else:
                k = "ok"
            out.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 1}" height="14" fill="{colour[k]}"><title>{html.escape(r["id"])}: {html.escape(c["name"])} {got}</title></rect>')
    out.append("</svg>")
    with open(os.path.join(DOCS, "rp-matrix.svg"), "w") as f:
        f.write("\n".join(out) + "\n")


main()
