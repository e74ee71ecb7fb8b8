#!/usr/bin/env bash
# apt-install.sh LABEL PACKAGE...: installs the Debian packages that are missing (apt-get, as root).
# Idempotent: a package already installed is skipped; apt-get runs only when something is missing.
# Used by test-deps.sh and bench-deps.sh.
set -euo pipefail

label=$1
shift
missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "$label: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$label: missing ${missing[*]}; run as root (apt-get) or install them yourself" >&2
  exit 1
fi

echo "$label: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "$label: done"
