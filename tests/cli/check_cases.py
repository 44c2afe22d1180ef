#!/usr/bin/env python3
"""Runs `gradc run --json` on every case of a cases file (lecture4.json) and compares the
value and gradients with the expected numbers to 1e-12 relative."""
import json
import math
import subprocess
import sys
import tempfile


def flat(v):
    if isinstance(v, list):
        return [x for e in v for x in flat(e)]
    return [v]


def close(got, want, rel=1e-12):
    g, w = flat(got), flat(want)
    return len(g) == len(w) and all(abs(a - b) <= rel * max(abs(b), 1e-300) for a, b in zip(g, w))


def main():
    gradc, source, cases_file = sys.argv[1:4]
    cases = json.load(open(cases_file))
    failures = 0
    for case in cases:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(case["at"], f)
        cmd = [gradc, "run", source, "--fn", case["fn"], "--at-file", f.name, "--json"]
        for name, size in case.get("dims", {}).items():
            cmd += ["--dim", f"{name}={size}"]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL {case['name']}: exit {out.returncode}: {out.stderr}")
            failures += 1
            continue
        got = json.loads(out.stdout)
        ok = got["fn"] == case["fn"] and close(got["value"], case["value"])
        for name, want in case["grad"].items():
            ok = ok and close(got["grad"].get(name), want)
            ok = ok and len(json.dumps(got["grad"][name])) > 0
        print(("ok   " if ok else "FAIL ") + case["name"])
        if not ok:
            print("  got ", got, "\n  want", case)
            failures += 1
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
