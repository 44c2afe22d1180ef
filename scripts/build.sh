#!/usr/bin/env bash
# Configures and builds gradc into build/ (used by demo.sh and test.sh); extra arguments go
# to cmake's configure step (e.g. -DGRADC_BUILD_BENCHMARKS=ON).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j2
