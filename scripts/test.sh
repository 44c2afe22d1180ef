#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs the whole test suite through ctest,
# then again under AddressSanitizer and UndefinedBehaviorSanitizer (clang-19), which also
# builds the libFuzzer targets and runs each for a bounded time (tests/fuzz).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
scripts/install-bench-deps.sh
start=$SECONDS

echo "== build (RelWithDebInfo, with the benchmarks: ctest runs each once at a small size)"
scripts/build.sh -DGRADC_BUILD_BENCHMARKS=ON
echo "== tests"
(cd build && ctest --output-on-failure -j2 --timeout 600)

echo "== build with ASan+UBSan (clang-19)"
CC=clang-19 CXX=clang++-19 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRADC_SANITIZE=ON >/dev/null
cmake --build build-asan -j2
echo "== tests under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
(cd build-asan && ctest --output-on-failure -j2 --timeout 900)

echo "== all tests passed in $((SECONDS - start)) s"
