#!/usr/bin/env bash
# Installs what is missing, builds the release binary and starts Parley with
# its embedded defaults: chat page on http://127.0.0.1:8080, data in
# ./parley-data. Extra arguments go to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target parley
exec build/release/src/app/parley --data-dir ./parley-data "$@"
