#!/usr/bin/env python3
"""Golden loop IR: `gradc ... --dump=loops` of each case below must equal tests/loops/NAME.loops
line for line, so that a change of schedule or lowering shows up as a readable diff.

usage: check_loops.py GRADC EXAMPLES_DIR NAME    (one case; the test)
       check_loops.py GRADC EXAMPLES_DIR --update  (rewrite every NAME.loops after a reviewed change)"""
import difflib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name: the command line after `gradc` ({ex}: examples/, {here}: tests/loops/). Products stay
# in gradc's own kernel (--no-blas): a build with CBLAS would call it instead.
CASES = {
    "simple": ["run", "{ex}/lecture4.expr", "--fn", "simple"],
    "neuron": ["run", "{ex}/lecture4.expr", "--fn", "neuron"],
    "gates": ["run", "{ex}/lecture4.expr", "--fn", "gates"],
    "l2wx": ["run", "{ex}/lecture4.expr", "--fn", "l2wx"],  # the row sweep
    "rosenbrock": ["run", "{here}/rosenbrock.expr"],  # sums riding on the gradient's loop
    "mlp2": ["run", "{ex}/mlp2.expr", "--fn", "mlp2", "--no-blas"],  # the tiled products
    "mlp2_bound": ["run", "{ex}/mlp2.expr", "--fn", "mlp2", "--no-blas", "--dim", "N=4", "--dim", "D=3",
                   "--dim", "H=5", "--dim", "C=3"],
    "shifts": ["emit", "{here}/shifts.expr", "--dim", "n=40"],  # a split loop with nested shifted gathers (parts of 32 elements or fewer lowered element by element)
    "emit_neuron": ["emit", "{ex}/lecture4.expr", "--fn", "neuron", "--check", "--prefix", "p_"],
}


def dump(gradc, ex, name):
    args = [a.format(ex=ex, here=HERE) for a in CASES[name]] + ["--dump=loops"]
    r = subprocess.run([gradc] + args, capture_output=True, text=True)
    if r.returncode != 0 or r.stderr:
        sys.exit(f"gradc {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def main():
    gradc, ex, name = sys.argv[1:4]
    if name == "--update":
        for n in CASES:
            with open(f"{HERE}/{n}.loops", "w") as f:
                f.write(dump(gradc, ex, n))
        return 0
    got = dump(gradc, ex, name)
    with open(f"{HERE}/{name}.loops") as f:
        want = f.read()
    if got == want:
        return 0
    sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                               f"tests/loops/{name}.loops", "gradc --dump=loops"))
    print(f"\nthe loop IR of {name} changed; if that is intended, review the diff and run\n"
          f"  tests/loops/check_loops.py GRADC examples --update")
    return 1


if __name__ == "__main__":
    sys.exit(main())
