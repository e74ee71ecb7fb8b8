#!/usr/bin/env bash
# Installs what the anchor benchmarks (package bench, `make bench`) need beyond scripts/test-deps.sh:
# rtpengine (userspace daemon only; the `rtpengine` package would build a kernel module), sipp and
# Kamailio. Idempotent (apt-install.sh); no service is started (the benchmarks start their own processes
# on loopback).
set -euo pipefail

exec bash "$(dirname "$0")/apt-install.sh" bench-deps rtpengine-daemon sip-tester kamailio
