#!/usr/bin/env bash
# Installs what the anchor benchmarks (package bench, `make bench`) need beyond scripts/test-deps.sh:
# rtpengine (userspace daemon only; the `rtpengine` package would build a kernel module), sipp and
# Kamailio. Idempotent: a package already installed is skipped; apt-get runs only when something is
# missing. No service is started (the benchmarks start their own processes on loopback).
set -euo pipefail

PKGS=(rtpengine-daemon sip-tester kamailio)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bench-deps: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-deps: missing ${missing[*]}; run as root (apt-get) or install them yourself" >&2
  exit 1
fi

echo "bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bench-deps: done"
