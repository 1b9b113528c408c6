#!/usr/bin/env bash
# Parley's scale-out engine measured (issue 11 item 9, docs/BENCHMARKS.md
# "Cluster on Redis"): 3 Parley nodes sharing one redis-server, the load
# generator's clients spread round robin over the nodes, against one Parley
# node on SQLite, same workloads, same load generator, one run.
#
#   redis3   redis-server (appendonly, appendfsync $FSYNC) + 3 nodes, --threads 1 each
#   sqlite1  one node, the default engine (SQLite history), --threads 2
#
# Workloads (each on a fresh cluster, so nothing one leaves colours the next):
#   broadcast-100k  1,000 seed clients (/wss) in one room, 10 senders, 100 msg/s each
#   broadcast-max   the same, saturated (WINDOW messages in flight per sender)
#   ack-10k         100 parley.v1 clients in 100 rooms, 10,000 acked sends/s in all
#   ack-max         the same, saturated
#
# "Server CPU" is the sum over every server process: the nodes and Redis
# (parley-bench --pid takes them all); server_cpu_s_each splits it, Redis last.
#
# Environment: DURATION=10 WARMUP=2 WINDOW=16 FSYNC=everysec (or always)
#   ENGINES="redis3 sqlite1"  WORKLOADS="broadcast-100k broadcast-max ack-10k ack-max"
#   SKIP_BUILD=1 reuse build/release
# Output: bench/results/cluster-<timestamp>.jsonl and .md (the tables, also on stdout).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source bench/no_limits.sh
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
WINDOW="${WINDOW:-16}"
FSYNC="${FSYNC:-everysec}"
ENGINES="${ENGINES:-redis3 sqlite1}"
WORKLOADS="${WORKLOADS:-broadcast-100k broadcast-max ack-10k ack-max}"
NODES=3
RUN_LIMIT=$((${DURATION%.*} + ${WARMUP%.*} + 120))

BUILD="$ROOT/build/release"
PARLEY="$BUILD/src/app/parley"
BENCH="$BUILD/bench/parley-bench"
REDIS_SERVER="$(command -v redis-server || echo /usr/bin/redis-server)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$ROOT/bench/results"
JSONL="$RESULTS/cluster-$STAMP.jsonl"
REPORT="$RESULTS/cluster-$STAMP.md"
WORK="$(mktemp -d -t parley-cluster.XXXXXX)"

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- cleanup: every process this script starts is recorded here -------------
PIDS=()
BENCH_PID=""
stop_pid() {  # TERM, a grace period, then KILL; only the PID we started
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
}
cleanup() {
  stop_pid "$BENCH_PID"
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  scripts/install-deps.sh --test >&2  # redis-server
  log "building Parley and parley-bench (release preset)"
  cmake --preset release >&2
  cmake --build --preset release -j2 --target parley parley-bench >&2
fi
[[ -x "$PARLEY" && -x "$BENCH" ]] || die "build/release lacks parley or parley-bench"
[[ -x "$REDIS_SERVER" ]] || die "redis-server not installed (scripts/install-deps.sh --test)"
mkdir -p "$RESULTS"
if (($(ulimit -n) < 4096)); then ulimit -n 4096; fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listening() {  # $1 pid, $2 port
  for ((i = 0; i < 200; i++)); do
    kill -0 "$1" 2>/dev/null || return 1
    [[ -n "$(ss -Hltn "sport = :$2" 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  return 1
}

# Parley with the per-client and per-address limits lifted (one loopback
# address sends everything), as compare.sh does.
PARLEY_ARGS=(--host 127.0.0.1 --log-level warn --shutdown-timeout 1 --join-history 0
  "${PARLEY_NO_LIMITS[@]}")

# Starts engine $1; sets URLS (comma-separated, path appended later), SERVER_PIDS
# (comma-separated, Redis last) and SERVER_CMDS.
start_engine() {
  local engine="$1" dir="$WORK/$1.$RANDOM" port pid
  mkdir -p "$dir"
  URLS="" SERVER_PIDS="" SERVER_CMDS=""
  case "$engine" in
    redis3)
      local rport
      rport="$(free_port)"
      "$REDIS_SERVER" --port "$rport" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync "$FSYNC" --save "" --daemonize no --logfile "$dir/redis.log" &
      local redis_pid=$!
      PIDS+=("$redis_pid")
      wait_listening "$redis_pid" "$rport" || die "redis-server did not start ($dir/redis.log)"
      SERVER_CMDS="redis-server --appendonly yes --appendfsync $FSYNC"
      for ((n = 0; n < NODES; n++)); do
        port="$(free_port)"
        "$PARLEY" "${PARLEY_ARGS[@]}" --port "$port" --threads 1 --data-dir "$dir/node$n" \
          --redis "redis://127.0.0.1:$rport/0" --node-id "bench$n" >>"$dir/node$n.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        wait_listening "$pid" "$port" || die "node $n did not start ($dir/node$n.log)"
        URLS+="${URLS:+,}ws://127.0.0.1:$port"
        SERVER_PIDS+="$pid,"
      done
      SERVER_PIDS+="$redis_pid"
      SERVER_CMDS+="; 3 x parley --threads 1 --redis ... ${PARLEY_ARGS[*]}" ;;
    sqlite1)
      port="$(free_port)"
      "$PARLEY" "${PARLEY_ARGS[@]}" --port "$port" --threads 2 --data-dir "$dir/node" \
        >>"$dir/node.log" 2>&1 &
      pid=$!
      PIDS+=("$pid")
      wait_listening "$pid" "$port" || die "the SQLite node did not start ($dir/node.log)"
      URLS="ws://127.0.0.1:$port" SERVER_PIDS="$pid"
      SERVER_CMDS="parley --threads 2 ${PARLEY_ARGS[*]}" ;;
    *) die "unknown engine '$engine'" ;;
  esac
}

# The parley-bench arguments of workload $1.
workload_args() {
  case "$1" in
    broadcast-100k) PATH_=/wss ARGS=(broadcast --clients 1000 --senders 10 --rate 100) ;;
    broadcast-max) PATH_=/wss ARGS=(broadcast --clients 1000 --senders 10 --rate 0 --window "$WINDOW") ;;
    ack-10k) PATH_=/ws ARGS=(ack --clients 100 --senders 100 --rooms 100 --rate 10000) ;;
    ack-max) PATH_=/ws ARGS=(ack --clients 100 --senders 100 --rooms 100 --rate 0 --window "$WINDOW") ;;
    *) die "unknown workload '$1'" ;;
  esac
}

run_one() {  # $1 engine, $2 workload
  local engine="$1" workload="$2" out="$WORK/out" rc=0 line urls
  workload_args "$workload"
  start_engine "$engine"
  urls="$(echo "$URLS" | sed "s#\(ws://[^,]*\)#\1$PATH_#g")"
  local cmd=("$BENCH" "${ARGS[@]}" --url "$urls" --pid "$SERVER_PIDS" --size 64
    --duration "$DURATION" --warmup "$WARMUP")
  log "$engine / $workload"
  timeout -k 5 "$RUN_LIMIT" "${cmd[@]}" >"$out" 2>>"$WORK/bench.log" &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=""
  line="$(grep '^{' "$out" | tail -n1 || true)"
  [[ -n "$line" ]] || line="{\"error\":\"parley-bench exit $rc: $(tail -n1 "$WORK/bench.log" | tr -d '"\\')\"}"
  stop_all
  python3 - "$engine" "$workload" "$line" "$SERVER_CMDS" "${cmd[*]}" "$FSYNC" >>"$JSONL" <<'PY'
import json, os, sys
engine, workload, line, server_cmd, bench_cmd, fsync = sys.argv[1:]
try:
    result = json.loads(line)
except ValueError:
    result = {"error": "unparsable output", "raw": line[:500]}
root = os.getcwd() + "/"
record = {"engine": engine, "workload": workload, "appendfsync": fsync if engine == "redis3" else None,
          "server_cmd": server_cmd.replace(root, ""), "bench_cmd": bench_cmd.replace(root, "")}
record.update(result)
print(json.dumps(record))
PY
}

log "results: $JSONL"
for workload in $WORKLOADS; do
  for engine in $ENGINES; do run_one "$engine" "$workload"; done
done

{
  echo "## Cluster on Redis ($STAMP)"
  echo
  echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), Parley $(git rev-parse --short HEAD), $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores"
  echo "- $("$REDIS_SERVER" --version | awk '{print $1, $2, $3}'), appendonly yes, appendfsync $FSYNC; DURATION=${DURATION}s WARMUP=${WARMUP}s"
  echo "- server CPU = all nodes + Redis; one machine, loopback, load generator beside them"
  echo
  python3 - "$JSONL" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]

def num(v):
    if v is None:
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f} M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:,.0f}"

def ms(d, q):
    v = (d or {}).get(q)
    return "–" if v is None else (f"{v / 1000:.1f} ms" if v >= 1000 else f"{v:.0f} µs")

print("| engine | workload | rate | per server CPU-s | server CPU s (nodes…, Redis) | Redis CPU µs per message | p50 | p99 | loss |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if "error" in r:
        print(f"| {r['engine']} | {r['workload']} | error: {r['error']} | | | | | | |")
        continue
    ack = r["workload"].startswith("ack")
    rate = r.get("acks_per_s") if ack else r.get("deliveries_per_s")
    per = r.get("acks_per_server_cpu_s") if ack else r.get("deliveries_per_server_cpu_s")
    lat = r.get("ack_latency_us") if ack else r.get("latency_us")
    each = r.get("server_cpu_s_each") or [r.get("server_cpu_s")]
    redis_us = "–"
    if r["engine"] == "redis3" and each and r.get("duration_s"):
        msgs = r.get("acked") if ack else r.get("sent")
        if msgs:
            redis_us = f"{each[-1] * 1e6 / msgs:.1f}"
    cpu = ", ".join(f"{s:.2f}" for s in each if s is not None)
    unit = "acks/s" if ack else "deliveries/s"
    loss = f"{r.get('unacked', 0)} unacked" if ack else f"{r.get('loss', 0)} lost"
    print(f"| {r['engine']} | {r['workload']} | {num(rate)} {unit} | {num(per)} | {cpu} | {redis_us} "
          f"| {ms(lat, 'p50')} | {ms(lat, 'p99')} | {loss} |")
PY
} | tee "$REPORT"
log "report: $REPORT"
