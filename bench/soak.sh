#!/usr/bin/env bash
# A bounded soak: honest chat beside every attack of issue 7, round and round,
# against one server on loopback; it stops by itself after SOAK_SECONDS.
# Every SOAK_SAMPLE_SECONDS it prints one JSON line (server RSS, open
# descriptors, the honest pair's p99 and max latency over the window, the
# server's CPU so far, the attack running), then a SUMMARY line. Exit status
# 1 when the server's RSS floor rose by more than SOAK_GROWTH_MIB, descriptors
# leaked, an honest line was lost or an honest client was disconnected.
# Not part of CI (docs/SECURITY.md, "Soak").
#
#   bench/soak.sh                       # 3 minutes against build/release
#   SOAK_SECONDS=600 PARLEY_BIN=build/debug/src/app/parley bench/soak.sh
#
# Environment: PARLEY_BIN (default build/release/src/app/parley),
# SOAK_SECONDS (180), SOAK_SAMPLE_SECONDS (5), SOAK_GROWTH_MIB (32),
# SOAK_SERVER_ARGS ("--threads 2 --slow-consumer-seconds 3 --handshake-timeout 3").
set -euo pipefail
cd "$(dirname "$0")/.."
export PARLEY_BIN="${PARLEY_BIN:-$PWD/build/release/src/app/parley}"
if [[ ! -x "$PARLEY_BIN" ]]; then
  echo "soak: no server at $PARLEY_BIN (cmake --preset release && cmake --build --preset release --target parley)" >&2
  exit 2
fi
[[ -d node_modules/ws ]] || { echo "soak: run npm ci first" >&2; exit 2; }
exec node bench/soak.mjs
