#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs the backpropagation lecture's examples.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
scripts/build.sh
gradc=build/tools/gradc/gradc
ex=examples/lecture4.expr

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== The lecture's examples ($ex), value and gradient of every parameter"
step $gradc run $ex --fn simple --at x=-2 --at y=5 --at z=-4
step $gradc run $ex --fn neuron --at w=2,-3,-3 --at x=-1,-2
step $gradc run $ex --fn gates --at x=3 --at y=-4 --at z=2 --at w=-1
step $gradc run $ex --fn l2wx --at W=0.1,0.5,-0.3,0.8 --at x=0.2,0.4 --json
echo
echo "== The gradient against central finite differences at a random point"
step $gradc check $ex --fn l2wx --dim n=4
echo
echo "== The neuron's gradient graph: the forward pass, then the backward sweep"
step $gradc run $ex --fn neuron --dump=grad
echo
echo "== Native code through LLVM (the default engine), and what each stage cost"
step $gradc run $ex --fn neuron --at w=2,-3,-3 --at x=-1,-2 --stats
echo
echo "== The two-layer net of examples/mlp2.expr: its gradient against finite differences"
step $gradc check examples/mlp2.expr --fn mlp2 --dim N=8 --dim D=4 --dim H=6 --dim C=3
echo
echo "== A C header and an object file for any C program (no gradc at run time)"
step $gradc emit $ex -o build/lecture4 --prefix l4_
step grep -A3 "^/\* neuron" build/lecture4.h
