#!/usr/bin/env bash
# Installs the Debian packages gradc needs to build and test; does nothing when they are present.
set -euo pipefail
"$(dirname "$0")/apt-ensure.sh" \
  build-essential cmake ninja-build \
  bison flex libfl-dev \
  llvm-19-dev clang-19 libclang-rt-19-dev \
  libgtest-dev libgmock-dev \
  libcli11-dev nlohmann-json3-dev \
  libgraphviz-dev \
  python3
