"""Tokens to the first finding, per structure-aware fuzzing family (`scripts/bench --families`).

For each family, a local HTTP relying party with that one flaw is probed by fuzzing alone
(`--no-catalogue --fuzz 2000 --seed 1`), and the figure is the index of the first generated
token whose shrunk finding is that family's, as exploitable as the flaw lets it be. The
integration tests that assert each family within the 2,000-token budget
(`tests/probe_families.rs`, `tests/probe_reach.rs`) do the measuring; this runs them and prints
what they found as a table (the README's figures). The seed is fixed, so the figures only move
when the generator does.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = ["probe_families::", "probe_reach::fuzzing_alone"]
# How many families the tests cover: fewer lines means a test stopped printing one.
FAMILIES = 7
BUDGET = 2000


def main():
    cmd = ["cargo", "test", "--test", "integration", "--", "--nocapture", "--test-threads", "1", *TESTS]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-4000:] + out.stderr[-4000:])
        raise SystemExit(f"the family tests failed ({out.returncode})")
    found = re.findall(r"^family: (.+): first at generated token (\d+) \((\w+)\)$", out.stderr, re.M)
    if len(found) != FAMILIES:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"expected {FAMILIES} families in the tests' output, read {len(found)}")
    print(f"\n| family (fuzzing alone, seed 1) | tokens to first finding | exploitable_by |\n| --- | --- | --- |")
    for what, first, by in found:
        print(f"| {what} | {first} | `{by}` |")
    worst = max(int(first) for _, first, _ in found)
    print(f"\nworst: {worst} of the {BUDGET}-token budget")
    if worst >= BUDGET:
        raise SystemExit(f"a family took {worst} tokens: over the {BUDGET}-token budget")


main()
