#!/usr/bin/env python3
"""Emitted code at its limits (docs/ABI.md): f_workspace_size is SIZE_MAX for dims too large
to index (n = 2^32 makes n * n wrap to 0 without checks) and for negative dims; entry functions
given such dims return NaN and write nothing; a missing workspace makes them NaN; a max whose
result is NaN has NaN gradients. As an object and as C source (under ASan and UBSan)."""
import os
import subprocess
import sys

GRADC, HERE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
EXPECTED = """ws(3) fits: 1
ws(2^32) is SIZE_MAX: 1
ws(-1) is SIZE_MAX: 1
gradcheck ws(2^32) is SIZE_MAX: 1
f(3) is finite: 1
f(3) without its workspace is NaN: 1
f_grad(2^32) is NaN and writes nothing: 1 1
f_gradcheck(2^32) is NaN: 1
f_gradcheck without its workspace is NaN: 1
f_gradcheck(3) passes: 1
ws(INT64_MIN) and ws(INT64_MAX) are SIZE_MAX: 1 1
f(INT64_MIN) is NaN: 1
k: ws(3) > 0, ws(-1) is SIZE_MAX: 1 1
s_gradcheck(0) is NaN: 1
max with a NaN: value and every gradient NaN: 1 1 1 1
"""
failed = 0


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL {' '.join(cmd)} (exit {r.returncode})\n{r.stdout}{r.stderr}")
    return r.stdout


flags = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-I", WORK]
sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
for kind, code in (("object", "sizes.o"), ("c", "sizes.c")):
    out = os.path.join(WORK, kind)
    os.makedirs(out, exist_ok=True)
    run([GRADC, "emit", os.path.join(HERE, "sizes.expr"), "-o", os.path.join(out, "sizes"), "--check"] +
        (["--c"] if kind == "c" else []))
    exe = os.path.join(out, "host")
    extra = sanitize if kind == "c" else []
    run(["cc"] + flags + ["-I", out] + extra + [os.path.join(HERE, "sizes_host.c"), os.path.join(out, code), "-lm", "-o", exe])
    got = run([exe])
    ok = got == EXPECTED
    failed += not ok
    print(("ok   " if ok else "FAIL ") + kind + ("" if ok else "\n" + got))
sys.exit(1 if failed else 0)
