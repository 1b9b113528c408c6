#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine (as root): the build
# toolchain and libraries; with --test everything the test tiers use; with
# --bench the peer servers bench/compare.sh measures Parley against.
# Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(g++ cmake ninja-build pkg-config libssl-dev zlib1g-dev libsqlite3-dev
  libspdlog-dev libfmt-dev libcli11-dev libsimdjson-dev libgtest-dev libgmock-dev libbenchmark-dev
  libutf8proc-dev libhiredis-dev)
test_pkgs=(clang libclang-rt-14-dev clang-format chromium python3 python3-websockets
  python3-pytest nginx-light libnginx-mod-stream openssl fonts-wqy-microhei fonts-noto-color-emoji
  redis-server)

# The peers bench/compare.sh runs Parley against, all from Debian.
bench_pkgs=(golang-go golang-github-gorilla-websocket-dev libwebsocketpp-dev libboost-dev
  libasio-dev)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${test_pkgs[@]}"); fi
if [[ "${1:-}" == "--bench" ]]; then pkgs+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian (nodejs + npm) or from a vendor package that
# bundles npm; ask for Debian's only when the commands are missing.
if [[ "${1:-}" == "--test" || "${1:-}" == "--bench" ]]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" || "${1:-}" == "--bench" ]]; then
  # JavaScript test clients (ws, playwright-core) from the committed lock file.
  if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
