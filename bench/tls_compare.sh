#!/usr/bin/env bash
# What native TLS costs Parley, per delivery, per echo, per handshake and per
# idle connection: the same parley-bench runs against a plain server and a
# TLS server (docs/BENCHMARKS.md, "TLS").
#
# The TLS client side is Debian's nginx in TCP mode (`stream {}` with
# `proxy_ssl on`): parley-bench speaks plain WebSocket to nginx, nginx opens
# one TLS connection to Parley per bench connection (TLS 1.3, full handshakes:
# no session reuse). The plain runs go through the same nginx without TLS, so
# both sides have the same hop. The figures compared are Parley's own CPU
# (--pid): nginx's TLS client work is not in them.
#
# Usage: bench/tls_compare.sh [BUILD_DIR]   (default: build/release)
# Prints one JSON line per run: {"setup":"plain|tls","run":...,<bench summary>}.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/no_limits.sh"
build="${1:-$root/build/release}"
server="${PARLEY_SERVER:-$build/src/app/parley}"
bench="${PARLEY_BENCH:-$build/bench/parley-bench}"
nginx=/usr/sbin/nginx
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
for exe in "$server" "$bench" "$nginx" "$stream_module"; do
  [[ -e "$exe" ]] || { echo "tls_compare: $exe missing" >&2; exit 2; }
done
DURATION="${DURATION:-5}"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_parley NAME [FLAGS...]: a fresh server; sets $parley_pid and $parley_port.
start_parley() {
  local name=$1; shift
  mkdir -p "$work/$name"
  "$server" --host 127.0.0.1 --port 0 --history off --data-dir "$work/$name" --log-level warn \
    --echo --shutdown-timeout 1 "${PARLEY_NO_LIMITS[@]}" "$@" >"$work/$name.out" 2>&1 &
  parley_pid=$!
  pids+=("$parley_pid")
  parley_port=""
  for _ in $(seq 100); do
    parley_port="$(grep -o 'listening on https\?://127.0.0.1:[0-9]*' "$work/$name.out" | grep -o '[0-9]*$' || true)"
    [[ -n "$parley_port" ]] && return
    sleep 0.1
  done
  echo "tls_compare: $name did not start" >&2; cat "$work/$name.out" >&2; exit 2
}

# start_proxy NAME UPSTREAM_PORT SSL(on|off): nginx stream proxy; sets $proxy_port.
start_proxy() {
  local name=$1 upstream=$2 ssl=$3
  proxy_port="$(free_port)"
  local user=""
  [[ "$(id -u)" == 0 ]] && user="user nobody nogroup;"
  cat >"$work/$name.conf" <<EOF
load_module $stream_module;
$user
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $work/$name.pid;
error_log $work/$name.error.log warn;
events { worker_connections 10000; }
stream {
    server {
        listen 127.0.0.1:$proxy_port backlog=4096;
        proxy_pass 127.0.0.1:$upstream;
        proxy_ssl $ssl;
        proxy_ssl_protocols TLSv1.3;
        proxy_ssl_session_reuse off;
        proxy_timeout 1h;
    }
}
EOF
  "$nginx" -c "$work/$name.conf" -p "$work/" -e "$work/$name.error.log" &
  pids+=($!)
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$proxy_port),0.2).close()" 2>/dev/null && return
    sleep 0.1
  done
  echo "tls_compare: nginx did not start" >&2; cat "$work/$name.error.log" >&2; exit 2
}

run() {  # run SETUP RUN BENCH_ARGS...
  local setup=$1 name=$2; shift 2
  local load; load="$(cut -d' ' -f1-3 /proc/loadavg)"
  local out; out="$(timeout 120 "$bench" "$@" --pid "$parley_pid" || true)"
  echo "{\"setup\":\"$setup\",\"run\":\"$name\",\"loadavg\":\"$load\",\"summary\":$out}"
  # This run's server and proxy go before the next run starts.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  pids=()
}

for setup in plain tls; do
  flags=(); ssl=off
  if [[ $setup == tls ]]; then flags=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem"); ssl=on; fi
  common=(--duration "$DURATION" --warmup 2 --size 64)
  # Each run on a fresh server and proxy, so that none inherits another's heap.
  start_parley "$setup-fixed" "${flags[@]}"; start_proxy "$setup-fixed-proxy" "$parley_port" $ssl
  run $setup broadcast-fixed broadcast --url "ws://127.0.0.1:$proxy_port/wss" --clients 100 --senders 10 --rate 1000 "${common[@]}"
  start_parley "$setup-sat" "${flags[@]}"; start_proxy "$setup-sat-proxy" "$parley_port" $ssl
  run $setup broadcast-saturated broadcast --url "ws://127.0.0.1:$proxy_port/wss" --clients 100 --senders 10 --rate 0 --window 16 "${common[@]}"
  start_parley "$setup-echo" "${flags[@]}"; start_proxy "$setup-echo-proxy" "$parley_port" $ssl
  run $setup echo echo --url "ws://127.0.0.1:$proxy_port/echo" --clients 50 --in-flight 4 "${common[@]}"
  start_parley "$setup-connect" "${flags[@]}"; start_proxy "$setup-connect-proxy" "$parley_port" $ssl
  run $setup connect connect --url "ws://127.0.0.1:$proxy_port/echo" --concurrency 20 "${common[@]}"
  start_parley "$setup-idle" "${flags[@]}"; start_proxy "$setup-idle-proxy" "$parley_port" $ssl
  run $setup idle idle --url "ws://127.0.0.1:$proxy_port/echo" --clients 2000 --connect-rate 1000 --duration 3
done
