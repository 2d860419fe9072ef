"""Measures Stepmint's release binary on this machine; see scripts/bench for usage.

Figures: ready time (exec to the first completed TLS handshake) with persisted keys, idle and
loaded RSS, discovery/JWKS/mint throughput and the emulated AWS STS's AssumeRoleWithWebIdentity
round trips (verify, judge by a trust policy, issue credentials) over HTTPS with keep-alive (wrk), `openssl speed`
RSA-2048 signs per second as the physical limit for minting, and offline `stepmint mint` time.
"""
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# STEPMINT_BIN measures another build (the static one: scripts/package); else cargo's release build.
BIN = os.environ.get("STEPMINT_BIN") or os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release", "stepmint")
QUICK = "--quick" in sys.argv
PEERS = "--peers" in sys.argv
PROBE_ONLY = "--probe" in sys.argv
DURATION = 2 if QUICK else 5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
rows = []
ROLE = "arn:aws:iam::123456789012:role/bench"


def row(name, value, unit, note=""):
    rows.append((name, value, unit, note))
    print(f"  {name}: {value} {unit} {note}", file=sys.stderr)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) if m else 0


def cpu_seconds(pid):
    """User plus system CPU time of a whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_tls(port, ca, started, limit=30.0):
    ctx = ssl.create_default_context(cafile=ca)
    while time.perf_counter() - started < limit:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                with ctx.wrap_socket(s, server_hostname="localhost"):
                    return time.perf_counter() - started
        except (ConnectionRefusedError, ssl.SSLError, OSError):
            time.sleep(0.0005)
    raise SystemExit(f"no TLS on port {port} after {limit}s")


def wrk(url, seconds, connections=64, script=None, threads=2, close=False):
    # wrk shares the two cores with the server; for CPU-bound minting one client thread leaves
    # the server the most room. `close`: a new TLS connection per request, as JWKS clients with
    # a cold cache make them.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if close:
        cmd += ["-H", "Connection: close"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return rps, int(errors.group(1)) if errors else 0, socket_errors.group(1) if socket_errors else ""


def openssl_sign_rate():
    """openssl's signs per second on all cores, and per CPU-second: `openssl speed` divides each
    process's count by its user CPU time (unless -elapsed), so the -multi sum over N is that."""
    out = subprocess.run(["openssl", "speed", "-multi", str(os.cpu_count()), "-seconds", str(DURATION), "rsa2048"], capture_output=True, text=True).stdout
    m = re.search(r"rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    rate = float(m.group(1)) if m else 0.0
    return rate, rate / os.cpu_count()


class Stepmint:
    """A release `stepmint serve` on loopback with persisted keys."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="stepmint-bench-")
        subprocess.run([BIN, "mint", "--data-dir", self.data], check=True, capture_output=True)  # keys
        subprocess.run([BIN, "ca", "path", "--data-dir", self.data], check=True, capture_output=True)
        self.ca = os.path.join(self.data, "ca", "ca.pem")
        self.proc = None

    def ready_times(self, starts):
        readies = []
        for _ in range(starts):
            port = free_port()
            started = time.perf_counter()
            p = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", self.data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            readies.append(wait_tls(port, self.ca, started))
            p.terminate()
            p.wait()
        return readies

    def start(self):
        self.port = free_port()
        # An emulated role whose trust policy names this server's provider (the issuer carries
        # the port) with two conditions, as a deploy role's does.
        provider = f"localhost:{self.port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc"
        role_file = os.path.join(self.data, "role.json")
        with open(role_file, "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{provider}"},
                "Condition": {"StringLike": {f"{provider}:aud": "ari:cloud:bitbucket::workspace/*", f"{provider}:sub": "{*}:*"}}}]}, f)
        # The access log goes where a user would send it when nobody reads it.
        self.proc = subprocess.Popen([BIN, "serve", "--port", str(self.port), "--data-dir", self.data, "--aws-role", f"{ROLE}={role_file}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_tls(self.port, self.ca, time.perf_counter())
        # A step token from the running server (its issuer, its lifetime: an hour, longer than a run).
        token = subprocess.run([BIN, "mint", "--data-dir", self.data], check=True, capture_output=True, text=True).stdout.strip()
        self.sts_url = f"https://localhost:{self.port}/_stepmint/aws/sts/"
        self.sts_lua = os.path.join(self.data, "sts.lua")
        form = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
                                       "RoleSessionName": "bench", "WebIdentityToken": token})
        with open(self.sts_lua, "w") as f:
            f.write(f'wrk.method = "POST"\nwrk.body = "{form}"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        base = f"https://localhost:{self.port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc"
        self.discovery = base + "/.well-known/openid-configuration"
        self.jwks = base + "/keys.json"
        self.mint_url = f"https://localhost:{self.port}/_stepmint/v1/tokens"
        self.mint_lua = os.path.join(self.data, "mint.lua")
        # The control API wants the token the server wrote into its data directory.
        with open(os.path.join(self.data, "control-token")) as f:
            token = f.read().strip()
        with open(self.mint_lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.headers["Authorization"] = "Bearer {token}"\n')

    def tls_files(self):
        return os.path.join(self.data, "tls", "leaf-key.pem"), os.path.join(self.data, "tls", "leaf.pem")

    def stop(self):
        """Stops the server; the data directory stays for the offline figures."""
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


PEER_JS = r"""
const { OAuth2Server } = require('oauth2-mock-server');
(async () => {
  const [port, key, cert] = process.argv.slice(2);
  // Same certificate as Stepmint's, so both are measured over the same TLS.
  const server = new OAuth2Server(key, cert);
  await server.issuer.keys.generate('RS256');
  await server.start(Number(port), '127.0.0.1');
  console.log('ready');
})();
"""


class Peer:
    """oauth2-mock-server@8.2.2 over HTTPS with Stepmint's TLS certificate."""

    def __init__(self, key, cert):
        self.work = tempfile.mkdtemp(prefix="stepmint-peer-")
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "oauth2-mock-server@8.2.2"], cwd=self.work, check=True)
        with open(os.path.join(self.work, "peer.js"), "w") as f:
            f.write(PEER_JS)
        self.port = free_port()
        started = time.perf_counter()
        self.proc = subprocess.Popen(["node", "peer.js", str(self.port), key, cert], cwd=self.work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("oauth2-mock-server did not start")
        self.ready = time.perf_counter() - started
        time.sleep(0.3)
        self.idle_rss = rss_kb(self.proc.pid)
        base = f"https://localhost:{self.port}"
        self.discovery = base + "/.well-known/openid-configuration"
        self.jwks = base + "/jwks"
        self.token_url = base + "/token"
        self.token_lua = os.path.join(self.work, "token.lua")
        with open(self.token_lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = "grant_type=client_credentials&scope=a"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic Y2xpZW50OnNlY3JldA=="\n')

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)


failures = []


def checked(name, result):
    """Stepmint's figures count only if every response was a success."""
    rps, errors, sock = result
    if errors or sock:
        failures.append(f"{name}: {errors} non-2xx responses, socket errors: {sock or 'none'}")
    return rps


def probe_rate(data, target, count, concurrency):
    """Generated tokens per second the probe sends to `target` (argv after `probe`)."""
    out = subprocess.run(
        [BIN, "probe", *target, "--no-catalogue", "--fuzz", str(count), "--seed", "1", "--concurrency", str(concurrency), "--json", "--data-dir", data],
        capture_output=True, text=True,
    )
    if out.returncode not in (0, 1):
        raise SystemExit(f"probe failed ({out.returncode}): {out.stderr[-2000:]}")
    import json
    fuzz = json.loads(out.stdout)["fuzz"]
    return fuzz["rate"], fuzz["sent"], fuzz["errors"]


def probe_figures(data):
    """The probe's fuzzing throughput: against a trivial HTTP relying party (the probe is the
    bottleneck: mint, sign, judge, send), and against a command (`true`: a process per token)."""
    rp = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "bench.d", "trivial_rp.py")], stdout=subprocess.PIPE, text=True)
    try:
        port = int(rp.stdout.readline())
        url = ["--url", f"http://127.0.0.1:{port}/"]
        count = 1000 if QUICK else 5000
        probe_rate(data, url, 300, 32)  # warm
        rates = []
        for _ in range(1 if QUICK else ROUNDS):
            rate, sent, errors = probe_rate(data, url, count, 32)
            if errors:
                failures.append(f"probe: {errors} of {sent} generated tokens got no answer")
            rates.append(rate)
        row("probe fuzzing, trivial HTTP relying party", f"{median(rates):.0f}", "tokens/s", spread(rates, lambda x: f"{x:.0f}", lead=f"{count} tokens, concurrency 32; target: at least 2000/s"))
    finally:
        rp.terminate()
        rp.wait()
    rate, sent, _ = probe_rate(data, ["--exec", "true"], 200 if QUICK else 1000, 8)
    row("probe fuzzing, command relying party (`true`)", f"{rate:.0f}", "tokens/s", f"{sent} tokens, concurrency 8: a process per token")


def policy_figures():
    """`policy check` on the example pipelines file (process start to report, median), and the
    engine's evaluation throughput for a typical three-condition AWS trust policy (criterion's
    `policy_eval` bench: evaluation only, one core)."""
    ex = os.path.join(ROOT, "examples", "policies")
    cmd = [BIN, "policy", "check", os.path.join(ex, "aws-good.json"), "--pipelines", os.path.join(ex, "bitbucket-pipelines.yml"),
           "--env", "Production={bd715740-c970-486b-b68a-b421ec2a1f8b}", "--env", "Staging={5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d}", "--json"]
    times = []
    for _ in range(5 if QUICK else 20):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    row("stepmint policy check (example pipelines file, process start to report)", f"{median(times) * 1000:.1f}", "ms", "median; target: under 1 s")
    if QUICK:
        return
    out = subprocess.run(["cargo", "bench", "--bench", "core", "--", "policy_eval", "--warm-up-time", "1", "--measurement-time", "3"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    m = re.search(r"policy_eval/aws_3_conditions\s+time:.*?\n\s+thrpt:\s+\[[\d.]+ [KM]?elem/s ([\d.]+) ([KM]?)elem/s", out)
    if m:
        rate = float(m.group(1)) * {"K": 1e3, "M": 1e6, "": 1}[m.group(2)]
        row("policy eval, AWS trust policy with 3 conditions (engine only, one core)", f"{rate:.0f}", "evaluations/s", "criterion median; target: at least 100000")


def median(xs):
    return statistics.median(xs) if xs else 0.0


def spread(xs, fmt, *, lead=""):
    over = f"{fmt(min(xs))}-{fmt(max(xs))} over {len(xs)} rounds" if len(xs) > 1 else ""
    return "; ".join(x for x in [lead, over] if x)


def main():
    for tool in ["wrk", "openssl"]:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install {tool}")
    rounds = 1 if QUICK else ROUNDS
    if PROBE_ONLY:
        ours = Stepmint()
        probe_figures(ours.data)
        shutil.rmtree(ours.data, ignore_errors=True)
        for name, value, unit, note in rows:
            print(f"| {name} | {value} | {unit} | {note} |")
        if failures:
            raise SystemExit("\n".join(failures))
        return
    print(f"machine: {os.cpu_count()} cores; mode: {'quick' if QUICK else 'full'}; {rounds} round(s) of {DURATION} s per figure", file=sys.stderr)
    ours = Stepmint()
    peer = None
    try:
        readies = ours.ready_times(3 if QUICK else 7)
        row("stepmint ready (exec to first TLS handshake)", f"{min(readies) * 1000:.1f}", "ms", f"median {median(readies) * 1000:.1f} ms")
        ours.start()
        time.sleep(0.3)
        row("stepmint idle RSS", f"{rss_kb(ours.proc.pid) / 1024:.1f}", "MB")
        if PEERS:
            peer = Peer(*ours.tls_files())
        # Warm both first (Node's JIT, our caches and connections), unmeasured.
        warm = 1 if QUICK else 2
        for url in [ours.discovery, ours.jwks] + ([peer.discovery, peer.jwks] if peer else []):
            wrk(url, warm)
        wrk(ours.mint_url, warm, connections=16, script=ours.mint_lua, threads=1)
        wrk(ours.sts_url, warm, connections=16, script=ours.sts_lua, threads=1)
        if peer:
            wrk(peer.token_url, warm, connections=16, script=peer.token_lua, threads=1)
        # Paired rounds: each ratio compares figures taken back to back, so the neighbours'
        # load on this shared machine moves both sides of it together; the medians are reported.
        f = {k: [] for k in ["sts", "d", "j", "m", "limit", "pd", "pj", "pt", "r_m", "r_cpu", "r_d", "r_j", "jc", "pjc", "r_jc"]}
        peak = 0
        for n in range(rounds):
            rate, per_cpu = openssl_sign_rate()
            f["limit"].append(rate)
            cpu = cpu_seconds(ours.proc.pid)
            f["m"].append(checked("mint", wrk(ours.mint_url, DURATION, connections=16, script=ours.mint_lua, threads=1)))
            # Tokens per CPU-second the server itself spent, against one core's openssl signs:
            # the server's own cost over the bare signature, without wrk's share of the cores.
            used = cpu_seconds(ours.proc.pid) - cpu
            if used > 0 and per_cpu:
                f["r_cpu"].append(f["m"][-1] * DURATION / used / per_cpu)
            f["sts"].append(checked("sts", wrk(ours.sts_url, DURATION, connections=16, script=ours.sts_lua, threads=1)))
            f["d"].append(checked("discovery", wrk(ours.discovery, DURATION)))
            f["j"].append(checked("jwks", wrk(ours.jwks, DURATION)))
            f["jc"].append(checked("jwks, new connection each", wrk(ours.jwks, DURATION, connections=16, close=True)))
            peak = max(peak, rss_kb(ours.proc.pid))
            if f["limit"][-1]:
                f["r_m"].append(f["m"][-1] / f["limit"][-1])
            if peer:
                f["pd"].append(wrk(peer.discovery, DURATION)[0])
                f["pj"].append(wrk(peer.jwks, DURATION)[0])
                f["pjc"].append(wrk(peer.jwks, DURATION, connections=16, close=True)[0])
                f["r_jc"].append(f["jc"][-1] / f["pjc"][-1])
                f["pt"].append(wrk(peer.token_url, DURATION, connections=16, script=peer.token_lua, threads=1)[0])
                f["r_d"].append(f["d"][-1] / f["pd"][-1])
                f["r_j"].append(f["j"][-1] / f["pj"][-1])
            print(f"  round {n + 1}: mint {f['m'][-1]:.0f}/s, STS {f['sts'][-1]:.0f}/s vs openssl {f['limit'][-1]:.0f}/s; discovery {f['d'][-1]:.0f}/s; JWKS {f['j'][-1]:.0f}/s" + (f"; peer {f['pd'][-1]:.0f}/{f['pj'][-1]:.0f}/{f['pt'][-1]:.0f}/s" if peer else ""), file=sys.stderr)
        k = lambda x: f"{x / 1000:.1f}k"
        pct = lambda x: f"{x * 100:.0f} %"
        times = lambda x: f"{x:.1f}x"
        row("stepmint discovery (HTTPS, keep-alive)", f"{median(f['d']):.0f}", "req/s", spread(f["d"], k))
        row("stepmint JWKS (HTTPS, keep-alive)", f"{median(f['j']):.0f}", "req/s", spread(f["j"], k))
        row("stepmint JWKS (HTTPS, a new TLS connection per request)", f"{median(f['jc']):.0f}", "req/s", spread(f["jc"], k))
        row("stepmint mint RS256 (control API)", f"{median(f['m']):.0f}", "tokens/s", spread(f["m"], k))
        row("stepmint STS AssumeRoleWithWebIdentity (HTTPS, keep-alive)", f"{median(f['sts']):.0f}", "round trips/s",
            spread(f["sts"], k, lead="verify RS256, judge a 2-condition trust policy, issue credentials; beside mint's signing"))
        row("stepmint RSS under load", f"{peak / 1024:.1f}", "MB")
        row(f"openssl speed -multi {os.cpu_count()} rsa2048", f"{median(f['limit']):.0f}", "signs/s", spread(f["limit"], k, lead="the physical limit for minting"))
        if f["r_m"]:
            row("mint / openssl signs", f"{median(f['r_m']) * 100:.0f}", "%", spread(f["r_m"], pct, lead="target: at least 80 %; wrk shares the cores"))
        if f["r_cpu"]:
            row("mint per server CPU-second / openssl signs per CPU-second", f"{median(f['r_cpu']) * 100:.0f}", "%", spread(f["r_cpu"], pct, lead="wrk's share of the cores left out"))
        if peer:
            row("oauth2-mock-server 8.2.2 ready", f"{peer.ready * 1000:.0f}", "ms")
            row("oauth2-mock-server idle RSS", f"{peer.idle_rss / 1024:.1f}", "MB")
            row("oauth2-mock-server discovery (HTTPS, keep-alive)", f"{median(f['pd']):.0f}", "req/s", spread(f["pd"], k))
            row("oauth2-mock-server JWKS (HTTPS, keep-alive)", f"{median(f['pj']):.0f}", "req/s", spread(f["pj"], k))
            row("oauth2-mock-server JWKS (HTTPS, a new TLS connection per request)", f"{median(f['pjc']):.0f}", "req/s", spread(f["pjc"], k))
            row("JWKS per new connection: stepmint / oauth2-mock-server", f"{median(f['r_jc']):.1f}", "x", spread(f["r_jc"], times))
            row("oauth2-mock-server RS256 token", f"{median(f['pt']):.0f}", "tokens/s", spread(f["pt"], k))
            row("discovery: stepmint / oauth2-mock-server", f"{median(f['r_d']):.1f}", "x", spread(f["r_d"], times, lead="target: at least 10x"))
            row("JWKS: stepmint / oauth2-mock-server", f"{median(f['r_j']):.1f}", "x", spread(f["r_j"], times, lead="target: at least 10x"))
            row("mint: stepmint / oauth2-mock-server", f"{median(f['m']) / median(f['pt']):.1f}", "x")
    finally:
        if peer:
            peer.stop()
        ours.stop()
    data = ours.data
    probe_figures(data)
    policy_figures()
    mint_times = []
    for _ in range(5 if QUICK else 20):
        t = time.perf_counter()
        subprocess.run([BIN, "mint", "--data-dir", data], check=True, capture_output=True)
        mint_times.append(time.perf_counter() - t)
    row("stepmint mint (process start to token)", f"{median(mint_times) * 1000:.1f}", "ms", "median")
    shutil.rmtree(data, ignore_errors=True)
    print("\n| figure | value | unit | note |\n| --- | --- | --- | --- |")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")
    if failures:
        raise SystemExit("stepmint answered with errors under load:\n  " + "\n  ".join(failures))


main()
