"""`scripts/bench --flood`: serve's memory and access log under a flood of huge request heads.

Starts the release `stepmint serve` (stderr, its access log, to a file), takes its idle RSS,
then has eight keep-alive clients send requests with 250 KiB heads for FLOOD_SECONDS
(default 6; 2 with --quick): a 60 KiB path (414) with a 190 KiB User-Agent, which every
record used to keep whole. RSS is sampled every 50 ms; after the flood, the largest page of the
request log (`GET /_stepmint/v1/requests?all=true&limit=100000`) is read while RSS is sampled.
Prints the figures and fails (exit 1) when idle RSS is 15 MB or more or the flood's peak 40 MB
or more. STEPMINT_BIN measures another binary (an older build, to compare).
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("STEPMINT_BIN", os.path.join(TARGET, "release", "stepmint"))
QUICK = "--quick" in sys.argv
SECONDS = int(os.environ.get("FLOOD_SECONDS", "2" if QUICK else "6"))
IDLE_TARGET_MB = 15
FLOOD_TARGET_MB = 40

# wrk cannot send heads this large (it checks its own request with an 80 KB parser limit), so
# the clients are threads here: each sends the same head again and again over one connection.
HEAD = ("GET /" + "p" * (60 * 1024) + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + "u" * (190 * 1024) + "\r\n\r\n").encode()


def client(port, ca, until, counts):
    """One keep-alive client: sends HEAD and reads the answer until `until`, reconnecting when
    the server closes; counts answers and connections."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    answers = connections = 0
    while time.monotonic() < until:
        try:
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") as s:
                connections += 1
                buf = b""
                while time.monotonic() < until:
                    s.sendall(HEAD)
                    while b"\r\n\r\n" not in buf:
                        chunk = s.recv(65536)
                        if not chunk:
                            raise ConnectionError("closed")
                        buf += chunk
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                    while len(buf) < length:
                        chunk = s.recv(65536)
                        if not chunk:
                            raise ConnectionError("closed")
                        buf += chunk
                    buf = buf[length:]
                    answers += 1
        except (OSError, ConnectionError):
            pass
    counts.append((answers, connections))


def flood(port, ca):
    """Eight clients for SECONDS; answers per second and connections opened."""
    until = time.monotonic() + SECONDS
    counts = []
    threads = [threading.Thread(target=client, args=(port, ca, until, counts)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(a for a, _ in counts) / SECONDS, sum(c for _, c in counts)


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


def wait_tls(port, ca, limit=30.0):
    ctx = ssl.create_default_context(cafile=ca)
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                with ctx.wrap_socket(s, server_hostname="localhost"):
                    return
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"no TLS on port {port} after {limit}s")


class Sampler:
    """The peak RSS of `pid` while it runs, sampled every 50 ms."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return max(self.peak, rss_kb(self.pid))


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} is missing: cargo build --release --bin stepmint")
    data = tempfile.mkdtemp(prefix="stepmint-flood-")
    subprocess.run([BIN, "mint", "--data-dir", data], check=True, capture_output=True)  # keys
    subprocess.run([BIN, "ca", "path", "--data-dir", data], check=True, capture_output=True)
    ca = os.path.join(data, "ca", "ca.pem")
    port = free_port()
    log_path = os.path.join(data, "access.log")
    rows = []
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", data], stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_tls(port, ca)
            time.sleep(0.5)
            idle = rss_kb(proc.pid)
            rows.append(("idle RSS", mb(idle), f"target: under {IDLE_TARGET_MB} MB"))
            logged_before = os.path.getsize(log_path)
            sampler = Sampler(proc.pid)
            rate, connections = flood(port, ca)
            peak = sampler.stop()
            logged = os.path.getsize(log_path) - logged_before
            rows.append(("flood", f"{rate:.0f} req/s", f"8 keep-alive clients ({connections} connections), 250 KiB heads, {SECONDS} s ({rate * 250 / 1024:.0f} MB/s of heads)"))
            rows.append(("peak RSS under the flood", mb(peak), f"target: under {FLOOD_TARGET_MB} MB"))
            rows.append(("access log written", f"{logged / 1e6:.1f} MB", f"{logged / 1e6 / SECONDS:.2f} MB/s; {count_lines(log_path)}"))
            # The largest page of the log a client can ask for, read while RSS is sampled.
            sampler = Sampler(proc.pid)
            ctx = ssl.create_default_context(cafile=ca)
            url = f"https://localhost:{port}/_stepmint/v1/requests?all=true&limit=100000"
            sizes = [len(urllib.request.urlopen(url, context=ctx).read()) for _ in range(5)]
            page_peak = sampler.stop()
            rows.append(("GET /requests?all=true&limit=100000", f"{max(sizes) / 1e6:.2f} MB", f"peak RSS while read 5 times: {mb(page_peak)}"))
            time.sleep(1)
            rows.append(("RSS after", mb(rss_kb(proc.pid)), ""))
        finally:
            proc.terminate()
            proc.wait()
    subprocess.run(["rm", "-rf", data])
    print(f"\n| figure ({os.path.basename(BIN)}) | value | note |\n| --- | --- | --- |")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    failed = [f"idle RSS {mb(idle)}"] if idle >= IDLE_TARGET_MB * 1024 else []
    failed += [f"peak RSS under the flood {mb(peak)}"] if peak >= FLOOD_TARGET_MB * 1024 else []
    if failed:
        raise SystemExit("over target: " + ", ".join(failed))


def count_lines(path):
    lines = suppressed = 0
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            m = re.match(rb"\((\d+) log lines suppressed", line)
            if m:
                suppressed += int(m.group(1))
    return f"{lines} lines, {suppressed} more suppressed"


main()
