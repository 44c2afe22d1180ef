#!/usr/bin/env python3
"""Hostile input, table by table (issue: reliability round 2). Whatever the input, gradc exits
0, 1, 2 or 3 (never by a signal or an abort), says why in a short message, and does not
spend minutes or gigabytes first. Each row: what it is, the command line, the expected exit
code and a text the message must contain."""
import os
import subprocess
import sys
import tempfile
import time

GRADC = sys.argv[1]
os.environ["GRADC_CACHE"] = "off"  # every run compiles (test_cli.py tests the cache)
tmp = tempfile.mkdtemp(prefix="gradc_hostile_")
failures = 0


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


vec = write("vec.expr", "dim n\ndef f(x: [n]) = sum(x)\n")
wrap = write("wrap.expr", "dim a, b, c\ndef f(x: [a, b, c]) = sum(x)\n")
soft = write("soft.expr", "dim N, M\ndef f(a: [N, 1], b: [1, M]) = sum(softmax(a * b, axis=1))\n")
sq = write("sq.expr", "def f(x) = x * x\n")
deep = write("deep.json", '{"x": ' + "[" * 100000 + "]" * 100000 + "}")
deep50k = write("deep50k.json", '{"x": ' + "[" * 50000 + "1" + "]" * 50000 + "}")
longline = write("long.json", '{"x": [' + ", ".join(["1"] * 200000) + ", oops]}")
wrapdims = ["--dim", "a=1229673", "--dim", "b=3935371", "--dim", "c=7623851"]

# (what, arguments, exit code, text in stderr)
TABLES = {
    "crashes: input files": [
        ("a directory as the source", ["run", tmp], 1, "is a directory, not a file"),
        ("/dev/zero as the source", ["run", "/dev/zero"], 1, "is larger than 64 MiB"),
        ("/dev/urandom as the source", ["run", "/dev/urandom"], 1, "is larger than 64 MiB"),
        ("a directory as --at-file", ["run", vec, "--at-file", tmp], 1, "is a directory, not a file"),
        ("/dev/zero as --at-file", ["run", vec, "--at-file", "/dev/zero"], 1, "is larger than 256 MiB"),
        ("JSON nested 100,000 deep", ["run", vec, "--at-file", deep], 1, "arrays nested more than 32 deep"),
        ("JSON nested 50,000 deep", ["run", vec, "--at-file", deep50k], 1, "arrays nested more than 32 deep"),
        ("an error at the end of a 1 MB line", ["run", vec, "--at-file", longline], 1, "invalid JSON: invalid literal"),
    ],
    "crashes: sizes that wrap": [
        ("dims whose product wraps (check)", ["check", wrap] + wrapdims, 1, "would have more than 2^56 elements"),
        ("dims whose product wraps (interpreter)", ["check", wrap, "--engine", "interp"] + wrapdims, 1,
         "would have more than 2^56 elements"),
        ("dims whose product wraps (run)", ["run", wrap, "--at", "x=1"] + wrapdims, 1,
         "would have more than 2^56 elements"),
        ("a workspace too large for memory", ["check", soft, "--dim", "N=100000", "--dim", "M=100000"], 1,
         "the workspace for these dims needs"),
        ("n = 2^40 refused before work", ["check", vec, "--dim", "n=1099511627776"], 1, "need about 32.0 TiB"),
        ("n = 2^40 + 1", ["check", vec, "--dim", "n=1099511627777"], 1, "from 1 to 1099511627776 (2^40)"),
    ],
    "crashes: target CPUs": [
        ("--target-cpu nonsense (run)", ["run", sq, "--at", "x=1", "--target-cpu", "nonsense"], 1, "unknown CPU 'nonsense'"),
        ("--target-cpu i386 (run)", ["run", sq, "--at", "x=1", "--target-cpu", "i386"], 1, "cannot run 64-bit code"),
        ("--target-cpu i386 (check)", ["check", sq, "--target-cpu", "i386"], 1, "cannot run 64-bit code"),
        ("--target-cpu nonsense (emit)", ["emit", sq, "-o", os.path.join(tmp, "sq"), "--target-cpu", "nonsense"], 1,
         "unknown CPU 'nonsense'"),
        ("--target-cpu i386 (emit)", ["emit", sq, "-o", os.path.join(tmp, "sq"), "--target-cpu", "i386"], 1,
         "cannot run 64-bit code"),
    ],
    "outputs": [
        ("an unwritable -o", ["emit", sq, "-o", "/nonexistent/dir/sq"], 1, "cannot write"),
        ("an -o the C source cannot #include", ["emit", sq, "--c", "-o", os.path.join(tmp, 'a"b')], 1,
         "is not one the C source can #include"),
    ],
}

for table, rows in TABLES.items():
    for what, args, code, text in rows:
        start = time.monotonic()
        r = subprocess.run([GRADC] + args, capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - start
        ok = r.returncode == code and text in r.stderr and len(r.stderr) < 4000 and seconds < 30
        failures += not ok
        print(("ok   " if ok else "FAIL ") + f"{table}: {what}" +
              ("" if ok else f"\n  exit {r.returncode} (expected {code}), {seconds:.1f} s, stderr "
                             f"({len(r.stderr)} bytes): {r.stderr[:600]}"))

# A source path that would end the header's comment ("*/") or form a trigraph ("??/") in it:
# the emitted header and C still compile with -Werror.
odd = os.path.join(tmp, "c*", "m??")
os.makedirs(odd, exist_ok=True)
src = write(os.path.join("c*", "m??", "m.expr"), "def f(x) = x * x\n")
out = os.path.join(tmp, "odd")
r = subprocess.run([GRADC, "emit", src, "--c", "-o", out], capture_output=True, text=True)
cc = subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-c", out + ".c", "-o", out + ".o"],
                    capture_output=True, text=True) if r.returncode == 0 else r
ok = r.returncode == 0 and cc.returncode == 0
failures += not ok
print(("ok   " if ok else "FAIL ") + "a source path with */ and ??/ in the emitted comments" + ("" if ok else "\n" + cc.stderr))

# One number rule: what --at accepts, --at-file accepts, and the other way round.
for number in ["1e-320", "4.9e-324", "-0.5", ".5", "5.", "1e400", "1e-400", "0x10"]:
    by_at = subprocess.run([GRADC, "run", sq, "--at", "x=" + number], capture_output=True, text=True)
    js = write("n.json", '{"x": ' + number + "}")
    by_json = subprocess.run([GRADC, "run", sq, "--at-file", js], capture_output=True, text=True)
    json_number = number not in ("5.", ".5", "0x10")  # not JSON syntax
    agree = (by_at.returncode == 0) == (by_json.returncode == 0) or not json_number
    same = not json_number or by_at.stdout == by_json.stdout
    ok = agree and same and by_at.returncode in (0, 1) and by_json.returncode in (0, 1)
    failures += not ok
    print(("ok   " if ok else "FAIL ") + f"one number rule: {number} (--at exit {by_at.returncode}, "
          f"--at-file exit {by_json.returncode})")

print("all hostile inputs handled" if not failures else f"{failures} FAILED")
sys.exit(1 if failures else 0)
