#!/usr/bin/env bash
# Installs what is missing and runs every test tier: unit (GoogleTest),
# integration (real binary + npm ws + python3-websockets + nginx), e2e
# (Chromium) under the debug preset (ASan + UBSan, -Werror), then each fuzz
# target for a bounded time (PARLEY_FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
cmake --preset debug >/dev/null
cmake --build --preset debug -j"$jobs"
ctest --preset debug -j"$jobs" --no-tests=error

cmake --preset fuzz -DPARLEY_FUZZ_SECONDS="${PARLEY_FUZZ_SECONDS:-60}" >/dev/null
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz --no-tests=error
