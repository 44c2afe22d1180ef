#!/usr/bin/env bash
# Installs what the benchmarks (cmake -DGRADC_BUILD_BENCHMARKS=ON) need: Google Benchmark and
# the baselines gradc is measured against (ADOL-C; PyTorch's C++ library, also the oracle of
# the numerical edge cases; OpenBLAS). Does nothing when they are present.
set -euo pipefail
"$(dirname "$0")/apt-ensure.sh" libbenchmark-dev libadolc-dev libtorch-dev libopenblas-dev
