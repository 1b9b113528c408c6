// The things parley-bench measures. Each runs one complete benchmark
// against options.url and returns its one-line JSON summary; a run that could
// not measure anything carries an "error" field and sets `ok` to false.
#pragma once

#include "load/bench_options.h"
#include "load/json_line.h"
#include "load/ws_target.h"

namespace parley::bench {

struct RunResult {
  JsonLine summary;
  bool ok = true;
};

// C members of one room, S of them sending B-byte stamped messages at a total
// rate (or window-limited); deliveries/s, loss and latency of each delivery.
RunResult run_broadcast(const BenchOptions& o, const WsTarget& target);
// C clients each keeping P messages in flight to an echo endpoint; round trips/s and latency.
RunResult run_echo(const BenchOptions& o, const WsTarget& target);
// Holds C idle connections; the server's resident memory per connection.
RunResult run_idle(const BenchOptions& o, const WsTarget& target);
// K concurrent open-handshake-close cycles; handshakes/s and server CPU per handshake.
RunResult run_connect(const BenchOptions& o, const WsTarget& target);
// parley.v1: C members of a room, S of them sending `send`s at a total rate (or
// window-limited); latency send -> `ack`, acks/s, deliveries of `message`.
RunResult run_ack(const BenchOptions& o, const WsTarget& target);
// parley.v1: a room holding H messages, then fresh connections doing hello +
// join, K at a time; latency join -> `joined`, joins/s, server CPU per join.
RunResult run_join(const BenchOptions& o, const WsTarget& target);

}  // namespace parley::bench
