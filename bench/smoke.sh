#!/usr/bin/env bash
# Smoke test of the chat fan-out path with parley-bench: starts a fresh server
# on a free loopback port, runs a 2-second broadcast (50 members, 5 senders,
# 500 msg/s) and fails unless every message reached every other member.
#
# Usage: bench/smoke.sh [BUILD_DIR]   (default: build/release)
#   PARLEY_SERVER / PARLEY_BENCH override the two executables.
# Prints the bench's JSON summary line; exit status 0 = no loss.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
server="${PARLEY_SERVER:-$build/src/app/parley}"
bench="${PARLEY_BENCH:-$build/bench/parley-bench}"
for exe in "$server" "$bench"; do
  [[ -x "$exe" ]] || { echo "smoke: $exe not built" >&2; exit 2; }
done

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Every client comes from 127.0.0.1: no per-address limits (docs/SECURITY.md).
"$server" --port 0 --history off --data-dir "$work" --log-level warn --max-connections-per-ip 0 \
  --handshake-rate-per-ip 0 --rate-per-ip 0 --byte-rate 0 --byte-rate-per-ip 0 \
  >"$work/server.out" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 50); do  # up to 5 s for "parley listening on http://127.0.0.1:PORT"
  port="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.out" | grep -o '[0-9]*$' || true)"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.out" >&2; exit 2; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "smoke: server did not start" >&2; cat "$work/server.out" >&2; exit 2; }

summary="$(timeout 60 "$bench" broadcast --url "ws://127.0.0.1:$port/wss" --clients 50 \
  --senders 5 --size 64 --rate 500 --warmup 1 --duration 2 --drain 3 --pid "$server_pid")"
echo "$summary"

connected="$(grep -o '"connected":[0-9]*' <<<"$summary" | cut -d: -f2)"
sent="$(grep -o '"sent":[0-9]*' <<<"$summary" | cut -d: -f2)"
loss="$(grep -o '"loss":[0-9]*' <<<"$summary" | cut -d: -f2)"
if [[ "$connected" != 50 || -z "$sent" || "$sent" -eq 0 || "$loss" != 0 ]]; then
  echo "smoke: FAILED (connected=$connected sent=$sent loss=$loss)" >&2
  exit 1
fi
echo "smoke: ok ($sent messages, no loss)" >&2
