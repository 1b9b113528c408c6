#!/usr/bin/env bash
# Parley against the WebSocket servers installable on this machine, same
# workloads, same load generator, one run:
#
#   parley-t2    Parley, --threads 2, /wss (the seed chat: no copy to the sender)
#   parley-t1    Parley, --threads 1
#   websocketpp  bench/peers/websocketpp  (Debian libwebsocketpp-dev, asio, 1 thread)
#   gorilla      bench/peers/gorilla-chat (Debian golang-github-gorilla-websocket-dev)
#   node-ws      bench/peers/node-ws      (npm ws from ./node_modules)
#
# Each (server, workload) pair gets a fresh server on a free loopback port, so
# nothing one run leaves behind (dropped clients, grown heaps) colours the next.
# parley-bench is given the server's PID and reports the server's CPU time, so
# the "per server CPU-second" figures hold even though the load generator
# shares the machine's two cores.
#
# Output: bench/results/<timestamp>.jsonl (one parley-bench JSON line per run,
# with the server, workload and both command lines added), <timestamp>.md (the
# Markdown tables, also printed on stdout, for docs/BENCHMARKS.md) and
# <timestamp>.logs/ (server and load generator stderr).
#
# Environment:
#   DURATION=10     measured seconds per run      WARMUP=2   seconds before measuring
#   QUICK=1         smoke pass: small C, DURATION=3, WARMUP=1
#   SERVERS="parley-t2 parley-t1 websocketpp gorilla node-ws"
#                   (also available: gorilla-q64k, the gorilla peer with -send-queue 65536:
#                   the example drops a client whose 256-message queue fills, which
#                   saturated broadcasts do)
#   WORKLOADS="broadcast-100k broadcast-max broadcast-100x100 echo idle scale-small scale-large"
#                   (also available: connect)
#   IDLE_CLIENTS=19000  WINDOW=16 (saturated broadcast: in flight per sender)
#   SKIP_BUILD=1    reuse the binaries already built (SKIP_BUILD=parley: build the peers only)
#   PARLEY_BENCH=path  another parley-bench binary
#   PARLEY_BIN=path    another parley binary, e.g. an older commit's release build
#                   for a before/after run (with SKIP_BUILD=1); flags its --help
#                   does not list are left out of its command line
#   BENCH_ARGS="..." extra arguments for every parley-bench run
#   REPORT_ONLY=bench/results/X.jsonl  rebuild X.md from an earlier run, run nothing
#                   (the machine lines then describe this machine, now)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source bench/no_limits.sh
# The peers' toolchains and libraries (Go, gorilla, websocketpp) and npm ws.
scripts/install-deps.sh --bench >&2

QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  DURATION="${DURATION:-3}"
  WARMUP="${WARMUP:-1}"
  BCAST_C=200 MANY_C=50 ECHO_C=20 SCALE_SMALL=50 SCALE_LARGE=1000
  IDLE_CLIENTS="${IDLE_CLIENTS:-2000}"
else
  DURATION="${DURATION:-10}"
  WARMUP="${WARMUP:-2}"
  BCAST_C=1000 MANY_C=100 ECHO_C=100 SCALE_SMALL=100 SCALE_LARGE=10000
  IDLE_CLIENTS="${IDLE_CLIENTS:-19000}"
fi
SERVERS="${SERVERS:-parley-t2 parley-t1 websocketpp gorilla node-ws}"
WORKLOADS="${WORKLOADS:-broadcast-100k broadcast-max broadcast-100x100 echo idle scale-small scale-large}"
BENCH_ARGS="${BENCH_ARGS:-}"
WINDOW="${WINDOW:-16}"  # saturated broadcast: messages in flight per sender
for v in DURATION WARMUP; do
  [[ "${!v}" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "compare: $v must be a number of seconds" >&2; exit 2; }
done
# Each parley-bench run is bounded: its own time plus room to open and close
# thousands of connections.
RUN_LIMIT="$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { printf "%d", d + w + 180 }')"

BUILD="$ROOT/build/release"
PARLEY="${PARLEY_BIN:-$BUILD/src/app/parley}"
BENCH="${PARLEY_BENCH:-}"  # default: wherever the release build put parley-bench
PEERS="$ROOT/build/peers"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$ROOT/bench/results"
JSONL="$RESULTS/$STAMP.jsonl"
REPORT="$RESULTS/$STAMP.md"
LOGS="$RESULTS/$STAMP.logs"
WORK="$(mktemp -d -t parley-compare.XXXXXX)"

log() { printf 'compare: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- cleanup: every process this script starts is recorded here -------------
SERVER_PID=""
BENCH_PID=""
stop_pid() {  # TERM, a grace period, then KILL; only the PID we started
  local pid="$1" grace="${2:-5}"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$BENCH_PID" 2
  stop_pid "$SERVER_PID" 2
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build --------------------------------------------------------------------
build_parley() {  # build output goes to stderr: stdout is the report
  log "building Parley and parley-bench (release preset)"
  cmake --preset release >&2
  cmake --build --preset release -j2 --target parley parley-bench >&2 ||
    die "release build of parley + parley-bench failed (output above)"
}
build_peers() {
  mkdir -p "$PEERS"
  log "building the websocketpp peer"
  if [[ ! -x "$PEERS/websocketpp-server" || bench/peers/websocketpp/server.cpp -nt "$PEERS/websocketpp-server" ]]; then
    g++ -O2 -std=c++17 -o "$PEERS/websocketpp-server" bench/peers/websocketpp/server.cpp -pthread >&2
  fi

  log "building the gorilla peer (GOPATH mode, Debian's gorilla source, no download)"
  (cd bench/peers/gorilla-chat &&
    GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' GOPROXY=off GOCACHE="$PEERS/go-cache" \
      go build -o "$PEERS/gorilla-chat" .) >&2

  [[ -f node_modules/ws/package.json ]] || die "node_modules/ws missing: run npm ci"
}
REPORT_ONLY="${REPORT_ONLY:-}"
if [[ -n "$REPORT_ONLY" ]]; then SKIP_BUILD=report; fi
case "${SKIP_BUILD:-0}" in
  1 | report) ;;
  parley) build_peers ;;
  *) build_parley; build_peers ;;
esac
if [[ -z "$REPORT_ONLY" ]]; then
  [[ -x "$PARLEY" ]] || die "$PARLEY not built"
  if [[ -z "$BENCH" ]]; then
    for candidate in "$BUILD/bench/parley-bench" "$BUILD/bench/load/parley-bench"; do
      [[ -x "$candidate" ]] && BENCH="$candidate" && break
    done
  fi
  [[ -n "$BENCH" && -x "$BENCH" ]] || die "parley-bench not built (target parley-bench)"
  mkdir -p "$RESULTS" "$LOGS"
fi

# --- open files -----------------------------------------------------------------
# Server and load generator each hold one descriptor per connection, under the
# limit they inherit from this shell.
largest_c=0
for w in $WORKLOADS; do
  case "$w" in
    idle) c=$IDLE_CLIENTS ;; scale-large) c=$SCALE_LARGE ;; *) c=$BCAST_C ;;
  esac
  if ((c > largest_c)); then largest_c=$c; fi
done
need=$((largest_c + 512))
if (($(ulimit -n) < need)); then
  hard="$(ulimit -Hn)"
  if [[ "$hard" == unlimited ]] || ((hard >= need)); then ulimit -n "$need"; else ulimit -n "$hard"; fi
fi
nofile="$(ulimit -n)"
[[ "$nofile" == unlimited ]] && nofile=1048576
if ((nofile < IDLE_CLIENTS + 512)); then
  log "open-file limit is $nofile: idle run lowered from $IDLE_CLIENTS to $((nofile - 512)) connections"
  IDLE_CLIENTS=$((nofile - 512))
fi
if ((nofile < SCALE_LARGE + 512)); then
  log "open-file limit is $nofile: scale-large lowered from $SCALE_LARGE to $((nofile - 512)) clients"
  SCALE_LARGE=$((nofile - 512))
fi
# One loopback source address per 8,000 connections keeps each far inside the
# ephemeral port range (plus ports still in TIME_WAIT from earlier runs).
source_ips_for() { echo $((($1 + 7999) / 8000)); }

# --- servers ----------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_label() {
  case "$1" in
    parley-t2) echo "Parley (2 threads)" ;;
    parley-t1) echo "Parley (1 thread)" ;;
    websocketpp) echo "websocketpp 0.8 (asio, 1 thread)" ;;
    gorilla) echo "Go gorilla/websocket chat" ;;
    gorilla-q64k) echo "Go gorilla/websocket chat, 64k queue" ;;
    node-ws) echo "Node ws" ;;
    *) echo "$1" ;;
  esac
}

# An older Parley (PARLEY_BIN) may not know every limit flag: those it does
# not list in --help are dropped from SERVER_CMD, with their values (every
# flag here takes one but --echo). It had no such limit to lift, then.
drop_unknown_parley_flags() {
  [[ -n "${PARLEY_HELP:-}" ]] || PARLEY_HELP="$("$PARLEY" --help 2>&1 || true)"
  local kept=() i=1 arg
  kept+=("${SERVER_CMD[0]}")
  while ((i < ${#SERVER_CMD[@]})); do
    arg="${SERVER_CMD[i]}"
    if [[ "$arg" == --* ]] && ! grep -qE -- "(^|[ ,])$arg([ =,]|\$)" <<<"$PARLEY_HELP"; then
      [[ "$arg" == --echo ]] || i=$((i + 1))
      log "$(basename "$PARLEY") has no $arg: left out"
    else
      kept+=("$arg")
    fi
    i=$((i + 1))
  done
  SERVER_CMD=("${kept[@]}")
}

# Sets SERVER_CMD (array), CHAT_PATH, SELF_COPY for server $1 on port $2.
server_command() {
  local name="$1" port="$2"
  case "$name" in
    parley-t1 | parley-t2)
      # --rate: the peers have no per-client rate limit, so Parley's is lifted;
      # the load comes from one loopback address: no per-address limits either;
      # nor byte or inflate rates (the peers have none).
      # --join-history 0: the peers replay nothing on join.
      SERVER_CMD=("$PARLEY" --host 127.0.0.1 --port "$port" --history off
        --threads "${name#parley-t}" --echo --log-level warn --data-dir "$WORK/parley-data"
        --join-history 0 --shutdown-timeout 1 "${PARLEY_NO_LIMITS[@]}")
      drop_unknown_parley_flags
      CHAT_PATH=/wss SELF_COPY=0 ;;
    websocketpp)
      SERVER_CMD=("$PEERS/websocketpp-server" --host 127.0.0.1 --port "$port")
      CHAT_PATH=/ SELF_COPY=1 ;;
    gorilla)
      SERVER_CMD=("$PEERS/gorilla-chat" -host 127.0.0.1 -port "$port")
      CHAT_PATH=/ws SELF_COPY=1 ;;
    gorilla-q64k)  # not in the default list: gorilla without its drop-at-256 policy
      SERVER_CMD=("$PEERS/gorilla-chat" -host 127.0.0.1 -port "$port" -send-queue 65536)
      CHAT_PATH=/ws SELF_COPY=1 ;;
    node-ws)
      SERVER_CMD=(node "$ROOT/bench/peers/node-ws/server.mjs" --host 127.0.0.1 --port "$port")
      CHAT_PATH=/ SELF_COPY=1 ;;
    *) die "unknown server '$name' (SERVERS=$SERVERS)" ;;
  esac
}

start_server() {  # $1 name, $2 port, $3 log file; sets SERVER_PID
  server_command "$1" "$2"
  "${SERVER_CMD[@]}" >>"$3" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 150; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; return 1; }
    [[ -n "$(ss -Hltn "sport = :$2" 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- workloads --------------------------------------------------------------------
# Sets MODE C S SIZE RATE INFLIGHT for workload $1.
workload_params() {
  INFLIGHT=1 SIZE=64 RATE=0 S=10
  case "$1" in
    broadcast-100k) MODE=broadcast C=$BCAST_C S=10 RATE=100 ;;  # 100 msg/s x C deliveries
    broadcast-max) MODE=broadcast C=$BCAST_C S=10 ;;
    # Everyone sends, but parley-bench's saturated mode needs one receiver that
    # does not send (it counts the acks), so S = C - 1.
    broadcast-100x100) MODE=broadcast C=$MANY_C S=$((MANY_C - 1)) ;;
    echo) MODE=echo C=$ECHO_C S=$ECHO_C SIZE=32 INFLIGHT=16 ;;
    idle) MODE=idle C=$IDLE_CLIENTS S=0 ;;
    scale-small) MODE=broadcast C=$SCALE_SMALL S=10 ;;
    scale-large) MODE=broadcast C=$SCALE_LARGE S=10 ;;
    connect) MODE=connect C=100 S=0 ;;
    *) die "unknown workload '$1' (WORKLOADS=$WORKLOADS)" ;;
  esac
}

run_one() {  # $1 server, $2 workload
  local server="$1" workload="$2" port path out rc=0 line
  workload_params "$workload"
  port="$(free_port)"
  local slog="$LOGS/$server.$workload.server.log" blog="$LOGS/$server.$workload.bench.log"
  if ! start_server "$server" "$port" "$slog"; then
    log "$server did not start listening on $port (see $slog)"
    stop_pid "$SERVER_PID"; SERVER_PID=""
    record "$server" "$workload" '{"error":"server did not start"}' "" ""
    return
  fi
  path="$CHAT_PATH"
  # Idle connections sit on the echo endpoint of every server: Parley's chat
  # path announces each join to everyone (the seed's notices), which the
  # peers' chats don't, and that is not what an idle figure measures.
  [[ "$MODE" == echo || "$MODE" == idle ]] && path=/echo
  local cmd=("$BENCH" "$MODE" --url "ws://127.0.0.1:$port$path" --clients "$C" --size "$SIZE"
    --duration "$DURATION" --warmup "$WARMUP" --pid "$SERVER_PID"
    --source-ips "$(source_ips_for "$C")")
  case "$MODE" in
    broadcast)
      cmd+=(--senders "$S" --rate "$RATE")
      [[ "$RATE" == 0 ]] && cmd+=(--window "$WINDOW")
      [[ "$SELF_COPY" == 1 ]] && cmd+=(--echo-to-sender) ;;
    echo) cmd+=(--in-flight "$INFLIGHT") ;;
  esac
  # shellcheck disable=SC2206  # BENCH_ARGS is meant to split into words
  cmd+=($BENCH_ARGS)
  log "$(server_label "$server") / $workload: C=$C S=$S size=$SIZE rate=$RATE"
  out="$WORK/bench.out"
  timeout -k 5 "$RUN_LIMIT" "${cmd[@]}" >"$out" 2>>"$blog" &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=""
  line="$(grep '^{' "$out" | tail -n1 || true)"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    line="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1] or "{}"); d["error"]="server exited during the run"; print(json.dumps(d))' "$line")"
  elif [[ -z "$line" ]]; then
    line="{\"error\":\"parley-bench exit $rc, no JSON (see $(basename "$blog"))\"}"
  fi
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  record "$server" "$workload" "$line" "${SERVER_CMD[*]}" "${cmd[*]}"
}

record() {  # $1 server, $2 workload, $3 JSON from parley-bench, $4/$5 command lines
  python3 - "$@" "$C" "$S" "$SIZE" "$RATE" "$INFLIGHT" "$MODE" "$(server_label "$1")" >>"$JSONL" <<'PY'
import json, sys
server, workload, line, server_cmd, bench_cmd, c, s, size, rate, inflight, mode, label = sys.argv[1:]
try:
    result = json.loads(line)
except ValueError:
    result = {"error": "unparsable output", "raw": line[:500]}
root = __import__("os").getcwd() + "/"
record = {"server": server, "label": label, "workload": workload, "mode": mode,
          "clients": int(c), "senders": int(s), "size": int(size), "rate": float(rate),
          "in_flight": int(inflight),
          "server_cmd": server_cmd.replace(root, ""), "bench_cmd": bench_cmd.replace(root, "")}
record.update(result)
print(json.dumps(record))
PY
}

# --- run ------------------------------------------------------------------------------
if [[ -n "$REPORT_ONLY" ]]; then
  JSONL="$REPORT_ONLY"
  REPORT="${REPORT_ONLY%.jsonl}.md"
  STAMP="$(basename "$REPORT_ONLY" .jsonl)"
else
  for w in $WORKLOADS; do workload_params "$w"; done  # reject typos before an hour of runs
  for s in $SERVERS; do server_command "$s" 0; done
  log "results: $JSONL"
  for server in $SERVERS; do
    for workload in $WORKLOADS; do
      run_one "$server" "$workload"
    done
  done
fi

# --- report ---------------------------------------------------------------------------
machine() {
  if [[ -n "${PARLEY_BIN:-}" ]]; then
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), Parley: $PARLEY_BIN (PARLEY_BIN; the load generator and peers from $(git rev-parse --short HEAD 2>/dev/null))"
  else
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), Parley $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  fi
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores; $(free -g | awk '/^Mem:/ {print $2}') GiB RAM; Linux $(uname -r)"
  echo "- g++ $(g++ -dumpfullversion), $(go version | awk '{print $3}'), node $(node --version), ws $(node -p 'require("./node_modules/ws/package.json").version'), websocketpp $(dpkg-query -W -f '${Version}' libwebsocketpp-dev 2>/dev/null), gorilla/websocket $(dpkg-query -W -f '${Version}' golang-github-gorilla-websocket-dev 2>/dev/null)"
  echo "- Load generator and server on the same machine, loopback; DURATION=${DURATION}s, WARMUP=${WARMUP}s, open-file limit $(ulimit -n)$([[ $QUICK == 1 ]] && echo ', QUICK=1 (small C: not for publication)')"
}
{
  echo "## Parley vs. peers ($STAMP)"
  echo
  machine
  echo
  python3 - "$JSONL" <<'PY'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
servers = list(dict.fromkeys(r["server"] for r in rows))
by = {(r["server"], r["workload"]): r for r in rows}
label = {r["server"]: r["label"] for r in rows}
BASE = "websocketpp"

def num(v, digits=0):
    if v is None:
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f} M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:,.{digits}f}"

def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"

def lat(r, q):
    v = (r.get("latency_us") or {}).get(q)
    if v is None:
        return "–"
    return f"{v / 1000:.1f} ms" if v >= 1000 else f"{v:.0f} µs"

def rate(r):  # broadcast reports deliveries, echo reports echoes
    return r.get("deliveries_per_s", r.get("echoes_per_s"))

def per_cpu(r):
    return r.get("deliveries_per_server_cpu_s", r.get("echoes_per_server_cpu_s"))

def loss(r):
    ratio_ = r.get("loss_ratio")
    if ratio_ is None and r.get("expected"):
        ratio_ = r.get("loss", 0) / r["expected"]
    if ratio_ is not None:
        text = f"{ratio_:.2%}"
    else:
        text = "–" if r.get("loss") is None else f"{r['loss']} msgs"
    if r.get("lost_connections"):
        text += f", {r['lost_connections']} conns lost"
        if r.get("first_error"):
            text += f" ({r['first_error']})"
    return text

titles = {
    "broadcast-100k": "Broadcast, fixed rate: {c} clients, {s} senders, {size} B, {rate:g} msg/s in",
    "broadcast-max": "Broadcast, saturated: {c} clients, {s} senders, {size} B",
    "broadcast-100x100": "Broadcast, all but one client send: {c} clients, {s} senders, {size} B, saturated",
    "echo": "Echo: {c} clients, {p} in flight each, {size} B, saturated",
}
for w, title in titles.items():
    present = [s for s in servers if (s, w) in by]
    if not present:
        continue
    r0 = by[(present[0], w)]
    print("### " + title.format(c=r0["clients"], s=r0["senders"], size=r0["size"],
                                rate=r0["rate"], p=r0["in_flight"]))
    print()
    unit = "echoes/s" if w == "echo" else "deliveries/s"
    print(f"| Server | {unit} | × websocketpp | per server CPU-s | × websocketpp | p50 | p99 | loss |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    base = by.get((BASE, w), {})
    for s in present:
        r = by[(s, w)]
        if "error" in r and rate(r) is None:
            print(f"| {label[s]} | {r['error']} | | | | | | |")
            continue
        d, e = rate(r), per_cpu(r)
        print(f"| {label[s]} | {num(d)} | {ratio(d, rate(base))} | {num(e)} | "
              f"{ratio(e, per_cpu(base))} | {lat(r, 'p50')} | "
              f"{lat(r, 'p99')} | {loss(r)} |")
    print()

present = [s for s in servers if (s, "idle") in by]
if present:
    print(f"### Idle: {by[(present[0], 'idle')]['clients']:,} open connections")
    print()
    print("| Server | server RSS per connection | × websocketpp | connections lost |")
    print("|---|--:|--:|--:|")
    def rss(r):
        return r.get("server_rss_per_connection_bytes", r.get("rss_per_connection_bytes"))
    base = rss(by.get((BASE, "idle"), {}))
    for s in present:
        r = by[(s, "idle")]
        v = rss(r)
        shown = f"{v / 1024:.1f} KiB" if v is not None else r.get("error", "–")
        print(f"| {label[s]} | {shown} | {ratio(v, base)} | {r.get('lost_connections', '–')} |")
    print()

present = [s for s in servers if (s, "connect") in by]
if present:
    print("### Connect: WebSocket handshakes per second")
    print()
    print("| Server | handshakes/s | × websocketpp |")
    print("|---|--:|--:|")
    base = by.get((BASE, "connect"), {}).get("handshakes_per_s")
    for s in present:
        v = by[(s, "connect")].get("handshakes_per_s")
        print(f"| {label[s]} | {num(v)} | {ratio(v, base)} |")
    print()

scale = ["scale-small", "broadcast-max", "scale-large"]
present = [s for s in servers if sum((s, w) in by for w in scale) >= 2]
if present:
    cs = []
    for w in scale:
        r = next((by[(s, w)] for s in present if (s, w) in by), None)
        if r:
            cs.append((w, r["clients"], r["senders"]))
    print(f"### How it moves with C: broadcast, saturated, {cs[0][2]} senders, 64 B")
    print()
    print("deliveries/s · per server CPU-second · p99 (· connections the server dropped)")
    print()
    print("| Server | " + " | ".join(f"C = {c:,}" for _, c, _ in cs) + " |")
    print("|---|" + "--:|" * len(cs))
    for s in present:
        cells = []
        for w, _, _ in cs:
            r = by.get((s, w))
            if not r or rate(r) is None:
                cells.append((r or {}).get("error", "–"))
            else:
                lost = f" · {r['lost_connections']} lost" if r.get("lost_connections") else ""
                cells.append(f"{num(rate(r))} · {num(per_cpu(r))} · {lat(r, 'p99')}{lost}")
        print(f"| {label[s]} | " + " | ".join(cells) + " |")
    print()

import re
def generic(cmd):
    cmd = re.sub(r"(-port )\d+", r"\1PORT", cmd)
    cmd = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", cmd)
    cmd = re.sub(r"--pid \d+", "--pid SERVER_PID", cmd)
    return re.sub(r"--data-dir \S+", "--data-dir DIR", cmd)

print("### Commands")
print()
print("Servers (one fresh process per run):")
print()
print("```sh")
for s in servers:
    print(generic(next(r["server_cmd"] for r in rows if r["server"] == s)))
print("```")
print()
print("Load (as run against the first server; the peers' chat path is / or /ws, and as they")
print("send the sender its own copy, broadcast runs against them add --echo-to-sender):")
print()
print("```sh")
for w in dict.fromkeys(r["workload"] for r in rows):
    cmd = next((r["bench_cmd"] for r in rows if r["workload"] == w and r["bench_cmd"]), "")
    if cmd:
        print(generic(cmd))
print("```")
PY
} | tee "$REPORT"
log "wrote $JSONL and $REPORT"
