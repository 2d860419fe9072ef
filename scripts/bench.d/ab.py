"""A/B of two stepmint binaries on the keep-alive paths: python3 scripts/bench.d/ab.py NEW OLD.

Both serve at once (own data directories); each round measures discovery and JWKS on one then
the other, alternating which goes first, and the ratio NEW/OLD per round is reported as a median
with its range (the machine's neighbours move absolute figures, not same-round ratios).
ROUNDS (default 5) and SECONDS (default 5) set the budget. Needs wrk.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile


def start(binary):
    data = tempfile.mkdtemp(prefix="stepmint-ab-")
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data, "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(json.loads(proc.stdout.readline())["listening"].rsplit(":", 1)[1])
    return proc, f"https://localhost:{port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc"


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", url], capture_output=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors under load at {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    rounds, seconds = int(os.environ.get("ROUNDS", "5")), int(os.environ.get("SECONDS", "5"))
    new, new_base = start(sys.argv[1])
    old, old_base = start(sys.argv[2])
    try:
        paths = {"discovery": "/.well-known/openid-configuration", "jwks": "/keys.json"}
        for base in (new_base, old_base):
            for path in paths.values():
                wrk(base + path, 2)
        ratios = {name: [] for name in paths}
        for n in range(rounds):
            for name, path in paths.items():
                order = [("new", new_base), ("old", old_base)]
                got = {tag: wrk(base + path, seconds) for tag, base in (order if n % 2 == 0 else order[::-1])}
                ratios[name].append(got["new"] / got["old"])
                print(f"round {n + 1} {name}: new {got['new']:.0f}/s old {got['old']:.0f}/s ratio {ratios[name][-1]:.3f}", file=sys.stderr)
        for name, xs in ratios.items():
            print(f"{name}: new/old {statistics.median(xs):.3f} median ({min(xs):.3f}-{max(xs):.3f}) over {rounds} rounds")
    finally:
        new.terminate()
        old.terminate()


main()
