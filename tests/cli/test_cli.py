#!/usr/bin/env python3
"""The command line's contract (docs/CLI.md): output formats, --at forms, dims
from shapes, exit codes 0/1/2/3, --dump, --help and --version."""
import json
import os
import subprocess
import sys
import tempfile

GRADC = sys.argv[1]
os.environ["GRADC_CACHE"] = "off"  # every run compiles, except in the cache's own tests below
HERE = sys.argv[2]
LECTURE = os.path.join(HERE, "..", "lecture", "lecture4.expr")
results = []


def run(*args):
    return subprocess.run([GRADC, *args], capture_output=True, text=True)


def test(name, cond, detail=""):
    results.append(cond)
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"\n  {detail}"))


def write(text, suffix=".expr"):
    f = tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False)
    f.write(text)
    f.close()
    return f.name


# emit takes --opt-level as run does: 0 and 3 write a working object, other levels are refused.
out = os.path.join(tempfile.mkdtemp(), "l4")
r = run("emit", LECTURE, "-o", out, "--opt-level", "0")
test("emit --opt-level 0", r.returncode == 0 and os.path.getsize(out + ".o") > 0, r.stderr)
r = run("emit", LECTURE, "-o", out, "--opt-level", "2")
test("emit --opt-level 2 is refused", r.returncode == 2 and "--opt-level" in r.stderr, r.stderr)

# emit prints every stage run does (and the loop IR), writing nothing.
dumpdir = tempfile.mkdtemp()
for stage, start in [("ast", "dim n\ndef simple("), ("ir", "def neuron\n"), ("grad", "def neuron_grad  # "),
                     ("opt", "def neuron_grad  # optimized: "), ("loops", "func neuron("), ("llvm", "; ModuleID = ")]:
    r = run("emit", LECTURE, "--fn", "neuron", "--dump", stage, "-o", os.path.join(dumpdir, "x"))
    test(f"emit --dump {stage}", r.returncode == 0 and r.stdout.startswith(start) and not os.listdir(dumpdir), r.stdout[:200] + r.stderr)

# Text output: value, then one line per gradient, numbers in shortest round-trip form.
r = run("run", LECTURE, "--fn", "simple", "--at", "x=-2", "--at", "y=5", "--at", "z=-4")
test("text output", r.returncode == 0 and r.stdout == "simple = -12\ndsimple/dx = -4\ndsimple/dy = -4\ndsimple/dz = 3\n", r.stdout + r.stderr)

# JSON output is exactly docs/CLI.md's example for the neuron (up to the last ulp).
r = run("run", LECTURE, "--fn", "neuron", "--at", "w=2,-3,-3", "--at", "x=-1,-2", "--json")
j = json.loads(r.stdout)
test("json output", r.returncode == 0 and set(j) == {"fn", "value", "grad"} and j["fn"] == "neuron"
     and j["value"] == 0.7310585786300049 and len(j["grad"]["w"]) == 3, r.stdout)

# Nested arrays in --at-file bind dims; matrices print as nested arrays.
at = write(json.dumps({"W": [[0.1, 0.5], [-0.3, 0.8]], "x": [0.2, 0.4]}), ".json")
r = run("run", LECTURE, "--fn", "l2wx", "--at-file", at, "--json")
j = json.loads(r.stdout) if r.returncode == 0 else {}
test("at-file binds dims", r.returncode == 0 and len(j["grad"]["W"]) == 2 and len(j["grad"]["W"][0]) == 2, r.stdout + r.stderr)
# --at overrides --at-file; a flat list binds n from its length.
r = run("run", LECTURE, "--fn", "l2wx", "--at-file", at, "--at", "x=0,0", "--json")
test("--at overrides --at-file", r.returncode == 0 and json.loads(r.stdout)["value"] == 0, r.stdout + r.stderr)

# Non-finite numbers print as strings in JSON.
src = write("def f(x) = log(x)\n")
r = run("run", src, "--at", "x=0", "--json")
test("non-finite as strings", r.returncode == 0 and json.loads(r.stdout) == {"fn": "f", "value": "-inf", "grad": {"x": "inf"}}, r.stdout)

# A non-scalar result: value is the array, grad the VJP with d_out all ones (or --d-out).
src = write("def g(x: [3]) = x * x\n")
r = run("run", src, "--at", "x=1,2,3", "--json")
test("vector result, d_out ones", r.returncode == 0 and json.loads(r.stdout) == {"fn": "g", "value": [1, 4, 9], "grad": {"x": [2, 4, 6]}}, r.stdout + r.stderr)
r = run("run", src, "--at", "x=1,2,3", "--d-out", "1,0,-1", "--json")
test("vector result, --d-out", r.returncode == 0 and json.loads(r.stdout)["grad"]["x"] == [2, 0, -6], r.stdout + r.stderr)

# Exit codes: 2 for a bad command line, 1 for bad inputs, 3 for a failed check.
test("exit 2 on unknown flag", run("run", LECTURE, "--bogus").returncode == 2)
test("exit 2 on no subcommand", run().returncode == 2)
test("exit 2 on bad --dump", run("run", LECTURE, "--dump", "nope").returncode == 2)
r = run("run", LECTURE, "--fn", "simple", "--at", "x=abc")
test("exit 1 on a bad number", r.returncode == 1 and "error: --at x: 'abc' is not a number" in r.stderr, r.stderr)
r = run("run", "/nonexistent/file.expr")
test("exit 1 on a missing file", r.returncode == 1 and "cannot open '/nonexistent/file.expr'" in r.stderr, r.stderr)
r = run("check", LECTURE, "--fn", "neuron")
test("check passes", r.returncode == 0 and "gradient check passed" in r.stdout, r.stdout)
r = run("check", LECTURE, "--fn", "neuron", "--tolerance", "0")
test("check exit 3 when it fails", r.returncode == 3 and "FAILED" in r.stdout, r.stdout)
r = run("check", LECTURE, "--fn", "l2wx", "--dim", "n=4", "--seed", "5")
test("check on a matrix program", r.returncode == 0 and "W " in r.stdout, r.stdout)

# Stages.
r = run("run", LECTURE, "--dump", "ast")
test("--dump=ast", r.returncode == 0 and "def simple(x: f64, y: f64, z: f64)\n  return (* (+ x y) z)\n" in r.stdout, r.stdout)
r = run("run", LECTURE, "--fn", "simple", "--dump", "ir")
test("--dump=ir", r.returncode == 0 and "add %0, %1" in r.stdout and "simple = %" in r.stdout, r.stdout)
r = run("run", LECTURE, "--fn", "simple", "--dump", "grad")
test("--dump=grad", r.returncode == 0 and "d_x = %" in r.stdout and "d_z = %" in r.stdout, r.stdout)

r = run("run", LECTURE, "--fn", "simple", "--dump", "opt")
test("--dump=opt", r.returncode == 0 and "def simple_grad  # optimized: 5 nodes\n" in r.stdout and "d_z = %" in r.stdout, r.stdout)
r = run("run", LECTURE, "--fn", "simple", "--dump", "llvm")
test("--dump=llvm", r.returncode == 0 and "define double @simple_grad(double %x, double %y, double %z, ptr" in r.stdout, r.stdout)
r = run("run", LECTURE, "--fn", "l2wx", "--dim", "n=2", "--at", "W=1,2,3,4", "--at", "x=1,-1", "--stats")
test("--stats", r.returncode == 0 and "stats:   simplify" in r.stderr and "ms from reading the file to native code" in r.stderr
     and r.stdout == "l2wx = 2\ndl2wx/dW = [[-2, 2], [-2, 2]]\ndl2wx/dx = [-8, -12]\n", r.stdout + r.stderr)

# A long program is lowered and compiled in pieces on the threads asked for; the numbers do
# not depend on how many.
chain = write("def chain(x) {\n  a0 = x\n" + "".join(f"  a{i + 1} = a{i} + 1e-5*sin(a{i})*x\n" for i in range(2500))
              + "  return a2500\n}\n")
outs = []
for threads in ["1", "2"]:
    r = run("run", chain, "--at", "x=0.5", "--threads", threads, "--stats")
    outs.append(r.stdout)
    test(f"--threads {threads}", r.returncode == 0 and f"ms on {threads} thread" in r.stderr
         and " modules), LLVM optimize" in r.stderr, r.stdout + r.stderr)
test("--threads: the same numbers", outs[0] == outs[1] and outs[0].startswith("chain = 0.50602576"), outs)
r = run("run", chain, "--at", "x=0.5", "--threads", "0")
test("--threads 0 is refused", r.returncode != 0 and "--threads" in r.stderr, r.stderr)

r = run("run", LECTURE, "--fn", "neuron", "--at", "w=2,-3,-3", "--at", "x=-1,-2", "--target-cpu", "generic", "--json")
test("--target-cpu generic", r.returncode == 0 and json.loads(r.stdout)["value"] == 0.7310585786300049, r.stdout + r.stderr)

# Both engines print the same numbers on the lecture's examples.
for fn, at in [("simple", ["x=-2", "y=5", "z=-4"]), ("gates", ["x=3", "y=-4", "z=2", "w=-1"]),
               ("l2wx", ["W=0.1,0.5,-0.3,0.8", "x=0.2,0.4"])]:
    args = ["run", LECTURE, "--fn", fn, "--json"] + [a for v in at for a in ("--at", v)]
    jit, interp = run(*args), run(*args, "--engine", "interp")
    test(f"engines agree on {fn}", jit.returncode == 0 and jit.stdout == interp.stdout, jit.stdout + interp.stdout)

# An index out of range at run time: reported with its place, nothing read.
src = write("dim n\ndef f(x: [n]) = x[3] * x[0]\n")
r = run("run", src, "--at", "x=1,2")
test("index out of range (jit)", r.returncode == 1 and ":2:18: error: index 3 is out of range for axis 0 of size 2" in r.stderr, r.stderr)

# `local def`: a helper that is inlined where called, neither run nor emitted by itself.
src = write("local def sig(z) = 1 / (1 + exp(-z))\ndef neuron(w: [2], x: [2], b) = sig(w @ x + b)\n")
r = run("run", src, "--at", "w=2,-3", "--at", "x=-1,-2", "--at", "b=-3")
test("run picks the only exported function", r.returncode == 0 and r.stdout.startswith("neuron = 0.7310585786300049\n"), r.stdout + r.stderr)
r = run("check", src)
test("check picks the only exported function", r.returncode == 0 and "passed" in r.stdout, r.stdout + r.stderr)
r = run("run", src, "--fn", "sig", "--at", "z=1")
test("a local function is not run", r.returncode == 1 and r.stderr.endswith(
    "error: function 'sig' is local (a helper of other functions, not exported); the file exports neuron\n"), r.stderr)
out = os.path.join(tempfile.mkdtemp(), "local")
r = run("emit", src, "-o", out, "--c")
header = open(out + ".h").read() if r.returncode == 0 else ""
test("emit leaves local functions out", r.returncode == 0 and "neuron_grad(" in header and "sig" not in header, r.stderr)
r = run("run", write("local def f(x) = x\n"), "--at", "x=1")
test("a file of local functions only", r.returncode == 1 and "every function of the file is local" in r.stderr, r.stderr)

# check at a point given as run takes it: relu's kink at 0 is where central differences
# disagree (exit 3); at 0.5 they agree. Names the function does not take: an error unless
# --ignore-unknown.
src = write("def f(x) = relu(x) * 3\n")
r = run("check", src, "--at", "x=0")
test("check --at the kink", r.returncode == 3 and r.stdout.startswith("check f (at the point given, central differences)\n"), r.stdout + r.stderr)
r = run("check", src, "--at-file", write(json.dumps({"x": 0.5, "y": 2}), ".json"))
test("check --at-file with an unknown name", r.returncode == 1 and r.stderr.endswith(
    "error: 'f' has no parameter 'y' (--ignore-unknown skips values of other names)\n"), r.stderr)
r = run("check", src, "--at-file", write(json.dumps({"x": 0.5, "y": 2}), ".json"), "--ignore-unknown")
test("check --ignore-unknown", r.returncode == 0 and "passed" in r.stdout, r.stdout + r.stderr)
r = run("run", src, "--at-file", write(json.dumps({"x": 0.5, "y": 2}), ".json"), "--ignore-unknown")
test("run --ignore-unknown", r.returncode == 0 and r.stdout == "f = 1.5\ndf/dx = 3\n", r.stdout + r.stderr)

# The compile cache: a second run loads the code (--stats says so) and prints the same
# numbers; --no-cache neither reads nor writes it; an unwritable folder only loses the entry.
cache_env = dict(os.environ, GRADC_CACHE="on", GRADC_CACHE_DIR=tempfile.mkdtemp())
def cached(*args, env=cache_env):
    return subprocess.run([GRADC, *args], capture_output=True, text=True, env=env)
args = ["run", LECTURE, "--fn", "neuron", "--at", "w=2,-3,-3", "--at", "x=-1,-2", "--stats"]
first, second, fresh = cached(*args), cached(*args), cached(*args, "--no-cache")
test("cache miss, then hit", "stats: cache miss, stored: " + cache_env["GRADC_CACHE_DIR"] in first.stderr
     and "stats: cache hit: " + cache_env["GRADC_CACHE_DIR"] in second.stderr, first.stderr + second.stderr)
test("cache: the same numbers", first.returncode == 0 and first.stdout == second.stdout == fresh.stdout, first.stdout + second.stdout)
test("--no-cache", "stats: cache not used" in fresh.stderr, fresh.stderr)
r = cached(*args, env=dict(cache_env, GRADC_CACHE_DIR="/proc/gradc-cannot-write-here"))
test("an unwritable cache folder", r.returncode == 0 and r.stdout == first.stdout, r.stdout + r.stderr)
# gradc found on PATH knows its build (a rebuilt gradc never loads another's code): a copy of
# the binary is another build, and misses.
import shutil
bindir, copydir = tempfile.mkdtemp(), tempfile.mkdtemp()
shutil.copy2(GRADC, os.path.join(bindir, "gradc"))
shutil.copy(GRADC, os.path.join(copydir, "gradc"))
path_env = dict(cache_env, GRADC_CACHE_DIR=tempfile.mkdtemp())
outs = []
for d in (bindir, bindir, copydir):
    env = dict(path_env, PATH=d + ":" + os.environ["PATH"])
    outs.append(subprocess.run(["gradc", *args], capture_output=True, text=True, env=env, cwd="/").stderr)
test("cache: gradc from PATH", "cache miss, stored" in outs[0] and "cache hit" in outs[1] and "cache miss" in outs[2], "\n".join(outs))
# A folder others may write to is not trusted: nothing is loaded from it.
open_dir = tempfile.mkdtemp()
os.chmod(open_dir, 0o777)
env = dict(cache_env, GRADC_CACHE_DIR=open_dir)
cached(*args, env=env)
r = cached(*args, env=env)
test("cache: a folder others may write to", r.returncode == 0 and "cache hit" not in r.stderr, r.stderr)
r = cached(*args, env=dict(cache_env, GRADC_CACHE="off"))
test("GRADC_CACHE=off", "stats: cache not used" in r.stderr, r.stderr)

r = run("--help")
test("--help", r.returncode == 0 and "run" in r.stdout and "check" in r.stdout, r.stdout)
r = run("--version")
test("--version", r.returncode == 0 and r.stdout.startswith("gradc "), r.stdout)

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
