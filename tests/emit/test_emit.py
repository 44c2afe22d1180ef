#!/usr/bin/env python3
"""gradc emit end to end: emits lecture4.expr and mlp2.expr with two prefixes, as object files
(MODE --object) or as C source (MODE --c, compiled with gcc and with clang-19, C99 -pedantic
-Wall -Wextra -Werror), compiles the C host (C99, same flags) and the headers as C++17, links
both files into one program, runs it, and compares every value and gradient with
`gradc run --json` (the JIT) to 1e-12 relative.

usage: test_emit.py GRADC EXAMPLES_DIR HERE WORK_DIR MODE"""
import json
import os
import subprocess
import sys

import shutil

GRADC, EXAMPLES, HERE, WORK, MODE = sys.argv[1:6]
os.makedirs(WORK, exist_ok=True)
STRICT = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror"]


def run(cmd, quiet=False, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    if quiet and r.stderr:  # not even a note
        sys.exit(f"diagnostics from: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


run([GRADC, "emit", f"{EXAMPLES}/lecture4.expr", "-o", f"{WORK}/lecture4", "--prefix", "l4_", MODE])
run([GRADC, "emit", f"{EXAMPLES}/mlp2.expr", "-o", f"{WORK}/mlp2", "--prefix", "m2_", MODE])
cc = os.environ.get("CC", "cc")
tsan = shutil.which("clang-19")
if MODE == "--c":
    # The emitted C compiles without a diagnostic under both compilers, for the host's CPU and
    # for any; gcc's objects are linked. A copy that takes the branches written for compilers
    # without GNU C's vector extensions (struct lanes, plain helpers) must compute the same.
    for name in ["lecture4", "mlp2"]:
        run([cc] + STRICT + ["-O2", "-c", f"{WORK}/{name}.c", "-o", f"{WORK}/{name}.o"], quiet=True)
        run([cc] + STRICT + ["-O2", "-march=native", "-c", f"{WORK}/{name}.c", "-o", f"{WORK}/{name}.native.o"],
            quiet=True)
        if tsan:
            run([tsan] + STRICT + ["-O2", "-c", f"{WORK}/{name}.c", "-o", f"{WORK}/{name}.clang.o"], quiet=True)
        with open(f"{WORK}/{name}.c") as f:
            plain = f.read().replace("defined(__GNUC__)", "defined(GRADC_TEST_NOT_GNU_C)")
        with open(f"{WORK}/{name}_plain.c", "w") as f:
            f.write(plain)
        run([cc] + STRICT + ["-O1", "-I", WORK, "-c", f"{WORK}/{name}_plain.c", "-o", f"{WORK}/{name}.plain.o"],
            quiet=True)
    # The same for the host's CPU (on x86 with AVX but not AVX-512, gcc's wide vectors are split
    # into halves) and for the branches without GNU C.
    for variant in ["plain", "native"]:
        run([cc] + STRICT + ["-I", WORK, f"{HERE}/host.c", f"{WORK}/lecture4.{variant}.o", f"{WORK}/mlp2.{variant}.o",
                             "-lm", "-o", f"{WORK}/host_{variant}"])
run([cc] + STRICT + ["-I", WORK, f"{HERE}/host.c",
     f"{WORK}/lecture4.o", f"{WORK}/mlp2.o", "-lm", "-o", f"{WORK}/host"])
with open(f"{WORK}/both.cpp", "w") as f:
    f.write('#include "lecture4.h"\n#include "mlp2.h"\nint main() { return l4_gradc_abi_version() - 1; }\n')
run(["c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-I", WORK, f"{WORK}/both.cpp",
     f"{WORK}/lecture4.o", f"{WORK}/mlp2.o", "-lm", "-o", f"{WORK}/both"])
run([f"{WORK}/both"])

# Two threads at once, each with its own workspace (ThreadSanitizer when clang is there; the
# emitted C is then compiled with it too, so its accesses are instrumented).
threads_cc = [tsan, "-fsanitize=thread", "-g"] if tsan else [cc]
mlp2_code = [f"{WORK}/mlp2.c"] if MODE == "--c" else [f"{WORK}/mlp2.o"]
run(threads_cc + ["-std=c99", "-Wall", "-Wextra", "-Werror", "-I", WORK, f"{HERE}/threads.c"] +
    mlp2_code + ["-lm", "-pthread", "-o", f"{WORK}/threads"])
print(run([f"{WORK}/threads"]).strip())

# emit --check: F_gradcheck against central differences; at relu's kink it must report the
# difference between the gradient (0) and the central difference (0.5).
run([GRADC, "emit", f"{EXAMPLES}/mlp2.expr", "-o", f"{WORK}/mlp2_check", "--prefix", "k_", MODE, "--check"])
run([GRADC, "emit", f"{HERE}/kink.expr", "-o", f"{WORK}/kink", MODE, "--check"])
code = [f"{WORK}/mlp2_check.c", f"{WORK}/kink.c"] if MODE == "--c" else [f"{WORK}/mlp2_check.o", f"{WORK}/kink.o"]
run([cc] + STRICT + ["-I", WORK, f"{HERE}/gradcheck.c"] + code + ["-lm", "-o", f"{WORK}/gradcheck"])
checks = dict(line.split() for line in run([f"{WORK}/gradcheck"]).splitlines())
print("gradcheck:", checks)
for name in ["mlp2", "svm", "layer", "relu_at_1", "tiles", "tiles_value"]:
    if not float(checks[name]) < 1e-6:
        sys.exit(f"gradcheck {name}: worst error {checks[name]}, expected below 1e-6")
if float(checks["relu_at_0"]) != 0.5:
    sys.exit(f"gradcheck at relu's kink: {checks['relu_at_0']}, expected 0.5")

host_output = run([f"{WORK}/host"])
for variant in ["plain", "native"] if MODE == "--c" else []:
    other = run([f"{WORK}/host_{variant}"])
    for line, other_line in zip(host_output.splitlines(), other.splitlines()):
        a, b = line.split(), other_line.split()
        same = len(a) == len(b) and a[0] == b[0] and all(
            x == y or abs(float(x) - float(y)) <= 1e-12 * max(1.0, abs(float(x))) for x, y in zip(a[1:], b[1:]))
        if not same and not line.startswith("meta."):
            sys.exit(f"the C compiled as {variant} differs:\n{line}\n{other_line}")
    if len(host_output.splitlines()) != len(other.splitlines()):
        sys.exit(f"the C compiled as {variant} printed a different number of lines")

got = {}
meta = []
for line in host_output.splitlines():
    if line.startswith("meta."):
        meta.append(line)
        continue
    name, *vals = line.split()
    got[name] = [float(v) for v in vals]
if got.pop("badlabel", None) != [1.0, 9.0]:
    sys.exit("a label out of range must make the value and all 9 gradients NaN")
want_meta = ["meta.l2wx_grad n|int64_t|", "meta.l2wx_grad W|const double *|[n, n]",
             "meta.l2wx_grad x|const double *|[n]", "meta.l2wx_grad d_W|double *|[n, n]",
             "meta.l2wx_grad d_x|double *|[n]", "meta.l2wx_grad ws|void *|"]
if meta != want_meta:
    sys.exit(f"metadata differs:\n{meta}\nexpected\n{want_meta}")

W = [0.1, 0.5, -0.3, 0.8, 0.2, -0.7, 0.4, -0.1, 0.6]
x3 = [0.2, 0.4, -0.5]
X = [0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.1, 0.9, 1.2, -0.8, 0.3]
y = [2, 0, 1, 2]
W1 = [0.1 * ((i % 7) - 3) for i in range(15)]
W2 = [0.05 * ((i % 5) - 2) for i in range(15)]
b1 = [0.01 * i for i in range(5)]
b2 = [-0.02 * i for i in range(3)]
Wsvm = [0.1 * ((i % 4) - 1) for i in range(9)]
rows = lambda v, n: [v[i:i + n] for i in range(0, len(v), n)]
cases = [
    ("lecture4", "simple", {"x": -2, "y": 5, "z": -4}, []),
    ("lecture4", "neuron", {"w": [2, -3, -3], "x": [-1, -2]}, []),
    ("lecture4", "gates", {"x": 3, "y": -1, "z": 2, "w": 5}, []),
    ("lecture4", "l2wx", {"W": rows(W, 3), "x": x3}, ["n=3"]),
    ("mlp2", "mlp2", {"X": rows(X, 3), "y": y, "W1": rows(W1, 5), "b1": b1, "W2": rows(W2, 3), "b2": b2, "reg": 0.1},
     ["N=4", "D=3", "H=5", "C=3"]),
    ("mlp2", "scores", {"X": rows(X, 3), "W1": rows(W1, 5), "b1": b1, "W2": rows(W2, 3), "b2": b2},
     ["N=4", "D=3", "H=5", "C=3"]),
    ("mlp2", "svm", {"X": rows(X, 3), "y": y, "W": rows(Wsvm, 3)}, ["N=4", "D=3", "C=3"]),
]
failures = 0
checked = 0
for src, fn, at, dims in cases:
    path = f"{WORK}/{fn}.json"
    with open(path, "w") as f:
        json.dump(at, f)
    args = [GRADC, "run", f"{EXAMPLES}/{src}.expr", "--fn", fn, "--at-file", path, "--json"]
    for d in dims:
        args += ["--dim", d]
    want = json.loads(run(args))
    flat = lambda v: [v] if not isinstance(v, list) else [e for x in v for e in flat(x)]
    expected = {fn: flat(want["value"])}
    for p, g in want["grad"].items():
        expected[f"{fn}.{p}"] = flat(g)
    for key, vals in expected.items():
        for i, (w, g) in enumerate(zip(vals, got.get(key, []))):
            err = abs(w - g) / max(1.0, abs(w), abs(g))
            checked += 1
            if err > 1e-12:
                failures += 1
                print(f"FAIL {key}[{i}]: jit {w!r}, emitted {g!r}")
        if len(vals) != len(got.get(key, [])):
            failures += 1
            print(f"FAIL {key}: {len(vals)} values from the JIT, {len(got.get(key, []))} emitted")
print(f"{checked} values compared, {failures} failures")
sys.exit(1 if failures or checked < 85 else 0)
