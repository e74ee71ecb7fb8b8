#!/usr/bin/env bash
# Installs what the tests need: real SIP peers and tools (Debian packages). Idempotent (apt-install.sh).
set -euo pipefail

exec bash "$(dirname "$0")/apt-install.sh" test-deps \
  kamailio kamailio-tls-modules kamailio-sqlite-modules kamailio-utils-modules kamailio-extra-modules \
  baresip-core sip-tester sipvicious redis-server sox tshark iproute2 sqlite3 procps
