#!/usr/bin/env bash
# Installs what is missing and runs every test tier: unit (GoogleTest),
# integration (real binary + npm ws + python3-websockets + nginx), e2e
# (Chromium) under the debug preset (ASan + UBSan, -Werror); then each fuzz
# target for a bounded time (PARLEY_FUZZ_SECONDS, default 20).
#
# `scripts/test.sh --tsan` (or PARLEY_TSAN=1) also runs the ThreadSanitizer
# tier. It is not in the default run because CI must stay under 30 minutes
# on 2 cores and three sanitizer builds do not fit: measured on a fresh
# clone here, the debug build alone takes 10-12 min, its tests about 9, the
# tsan build about 8 and the fuzz build about 5. Run it before merging
# anything that touches threads (src/net, src/store, src/app/server*, the
# chat hub's cross-loop posts).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

tsan=${PARLEY_TSAN:-0}
[[ "${1:-}" == --tsan ]] && tsan=1
jobs=$(nproc)
cmake --preset debug >/dev/null
cmake --build --preset debug -j"$jobs"
# One slot more than the cores: most tests wait on sockets and browsers; those
# that assert latency or RSS bounds run alone (RUN_SERIAL in their CMakeLists).
ctest --preset debug -j"$((jobs + 1))" --no-tests=error

# ThreadSanitizer: the unit tests in one process (hundreds of sanitizer
# start-ups would cost minutes), then the integration tier but for the tests
# the tsan preset leaves out (CMakePresets.json): the Autobahn and deflate
# conformance cases (one connection's bytes, already run under ASan above),
# and the attack, edge-limit, timeout and slow-consumer tests, whose latency
# and RSS bounds are calibrated for the ASan build. What stays still drives
# every thread: the loops, the store's writer and reader, TLS, Redis.
if [[ "$tsan" == 1 ]]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j"$jobs"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    build/tsan/tests/unit/parley_unit_tests --gtest_brief=1
  ctest --preset tsan -j"$jobs" --no-tests=error -R '^integration/'
fi

cmake --preset fuzz -DPARLEY_FUZZ_SECONDS="${PARLEY_FUZZ_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz -j"$jobs" --no-tests=error
