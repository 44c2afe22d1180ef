#!/usr/bin/env bash
# Installs the Debian packages gradc needs to build and test; does nothing when they are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build
  bison flex libfl-dev
  llvm-19-dev clang-19 libclang-rt-19-dev
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or install them with apt-get" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
