#!/usr/bin/env bash
# Installs what the tests need: real SIP peers and tools (Debian packages).
# Idempotent: a package already installed is skipped; apt-get runs only when something is missing.
set -euo pipefail

PKGS=(
  kamailio kamailio-tls-modules kamailio-sqlite-modules kamailio-utils-modules kamailio-extra-modules
  baresip-core sip-tester sipvicious redis-server sox tshark iproute2 sqlite3 procps
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing ${missing[*]}; run as root (apt-get) or install them yourself" >&2
  exit 1
fi

echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test-deps: done"
