"""Measures Stepmint's release binary on this machine; see scripts/bench for usage.

Figures: ready time (exec to the first completed TLS handshake) with persisted keys, idle and
loaded RSS, discovery/JWKS/mint throughput over HTTPS with keep-alive (wrk), `openssl speed`
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "stepmint")
QUICK = "--quick" in sys.argv
PEERS = "--peers" in sys.argv
DURATION = 2 if QUICK else 8
rows = []


def row(name, value, unit, note=""):
    rows.append((name, value, unit, note))
    print(f"  {name}: {value} {unit} {note}", file=sys.stderr)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) if m else 0


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


def wrk(url, seconds, connections=64, script=None, threads=2):
    # wrk shares the two cores with the server; for CPU-bound minting one client thread leaves
    # the server the most room.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return rps, int(errors.group(1)) if errors else 0, socket_errors.group(1) if socket_errors else ""


def openssl_sign_rate():
    out = subprocess.run(["openssl", "speed", "-multi", "2", "-seconds", str(DURATION), "rsa2048"], capture_output=True, text=True).stdout
    m = re.search(r"rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    return float(m.group(1)) if m else 0.0


def measure_stepmint():
    data = tempfile.mkdtemp(prefix="stepmint-bench-")
    subprocess.run([BIN, "mint", "--data-dir", data], check=True, capture_output=True)  # keys, CA
    subprocess.run([BIN, "ca", "path", "--data-dir", data], check=True, capture_output=True)
    ca = os.path.join(data, "ca", "ca.pem")
    # Ready time: best of several starts with persisted keys (the first start made them).
    readies = []
    for _ in range(3 if QUICK else 7):
        port = free_port()
        started = time.perf_counter()
        p = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        readies.append(wait_tls(port, ca, started))
        p.terminate()
        p.wait()
    row("stepmint ready (exec to first TLS handshake)", f"{min(readies) * 1000:.1f}", "ms", f"median {statistics.median(readies) * 1000:.1f} ms")

    port = free_port()
    p = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_tls(port, ca, time.perf_counter())
    time.sleep(0.3)
    row("stepmint idle RSS", f"{rss_kb(p.pid) / 1024:.1f}", "MB")
    base = f"https://localhost:{port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc"
    d_rps, d_err, d_sock = wrk(base + "/.well-known/openid-configuration", DURATION)
    j_rps, j_err, j_sock = wrk(base + "/keys.json", DURATION)
    peak = rss_kb(p.pid)
    lua = os.path.join(data, "mint.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n')
    m_rps, m_err, m_sock = wrk(f"https://localhost:{port}/_stepmint/v1/tokens", DURATION, connections=16, script=lua, threads=1)
    peak = max(peak, rss_kb(p.pid))
    row("stepmint discovery", f"{d_rps:.0f}", "req/s", f"errors {d_err} {d_sock}".strip())
    row("stepmint JWKS", f"{j_rps:.0f}", "req/s", f"errors {j_err} {j_sock}".strip())
    row("stepmint mint RS256 (control API)", f"{m_rps:.0f}", "tokens/s", f"errors {m_err} {m_sock}".strip())
    row("stepmint RSS under load", f"{peak / 1024:.1f}", "MB")
    p.terminate()
    p.wait()
    times = []
    for _ in range(5 if QUICK else 20):
        t = time.perf_counter()
        subprocess.run([BIN, "mint", "--data-dir", data], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    row("stepmint mint (process start to token)", f"{statistics.median(times) * 1000:.1f}", "ms", "median")
    shutil.rmtree(data, ignore_errors=True)
    return {"discovery": d_rps, "jwks": j_rps, "mint": m_rps}


PEER_JS = r"""
const { OAuth2Server } = require('oauth2-mock-server');
(async () => {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(Number(process.argv[2]), '127.0.0.1');
  console.log('ready');
})();
"""


def measure_peer():
    work = tempfile.mkdtemp(prefix="stepmint-peer-")
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "oauth2-mock-server@8.2.2"], cwd=work, check=True)
    with open(os.path.join(work, "peer.js"), "w") as f:
        f.write(PEER_JS)
    port = free_port()
    started = time.perf_counter()
    p = subprocess.Popen(["node", "peer.js", str(port)], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    p.stdout.readline()
    ready = time.perf_counter() - started
    row("oauth2-mock-server 8.2.2 ready", f"{ready * 1000:.0f}", "ms")
    time.sleep(0.3)
    row("oauth2-mock-server idle RSS", f"{rss_kb(p.pid) / 1024:.1f}", "MB")
    j_rps, _, _ = wrk(f"http://127.0.0.1:{port}/jwks", DURATION)
    lua = os.path.join(work, "token.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = "grant_type=client_credentials&scope=a"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic Y2xpZW50OnNlY3JldA=="\n')
    t_rps, _, _ = wrk(f"http://127.0.0.1:{port}/token", DURATION, connections=16, script=lua, threads=1)
    row("oauth2-mock-server JWKS (plain HTTP)", f"{j_rps:.0f}", "req/s")
    row("oauth2-mock-server RS256 token", f"{t_rps:.0f}", "tokens/s")
    p.terminate()
    p.wait()
    shutil.rmtree(work, ignore_errors=True)
    return {"jwks": j_rps, "mint": t_rps}


def main():
    for tool in ["wrk", "openssl"]:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install {tool}")
    print(f"machine: {os.cpu_count()} cores; mode: {'quick' if QUICK else 'full'}", file=sys.stderr)
    ours = measure_stepmint()
    limit = openssl_sign_rate()
    row("openssl speed -multi 2 rsa2048", f"{limit:.0f}", "signs/s", "the physical limit for minting")
    if limit:
        row("mint / openssl signs", f"{ours['mint'] / limit * 100:.0f}", "%", "target: at least 80 %")
    if PEERS:
        peer = measure_peer()
        row("JWKS: stepmint / oauth2-mock-server", f"{ours['jwks'] / peer['jwks']:.1f}", "x", "target: at least 10x")
        row("mint: stepmint / oauth2-mock-server", f"{ours['mint'] / peer['mint']:.1f}", "x")
    print("\n| figure | value | unit | note |\n| --- | --- | --- | --- |")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


main()
