#!/usr/bin/env bash
# apt-ensure.sh PACKAGE...: installs the Debian packages that are missing; does nothing when
# all are present (so the scripts run offline on a prepared machine).
set -euo pipefail

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "apt-ensure: missing packages: ${missing[*]}" >&2
  echo "apt-ensure: run as root, or install them with apt-get" >&2
  exit 1
fi

echo "apt-ensure: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
