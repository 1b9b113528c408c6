// Everything a bench run is told on the command line (see --help and
// docs/BENCHMARKS.md "Load generator").
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

struct BenchOptions {
  std::string mode;  // broadcast, echo, idle, connect, ack, join
  std::string url = "ws://127.0.0.1:8080/wss";
  std::size_t clients = 100;
  std::size_t senders = 10;      // broadcast, ack
  std::size_t size = 64;         // message bytes, header included (ack: bytes of `text`)
  double rate = 1000;            // broadcast, ack: total messages/s; 0 = as fast as --window allows
  std::size_t window = 16;       // broadcast, ack, rate 0: messages in flight per sender
  std::size_t in_flight = 1;     // echo: messages in flight per client
  std::size_t concurrency = 50;  // connect, join: attempts in flight
  std::string room;              // ack, join: parley.v1 room; empty = a new one per run
  std::size_t rooms = 1;         // ack, idle: client n joins room n % rooms
  std::size_t history = 50;      // join: messages the room must hold before the joins
  int64_t since_back = -1;       // join: join with since = last id - N; -1 = without since
  bool cold = false;             // join: nobody stays in the room, so joins read the store
  bool echo_to_sender = false;   // broadcast: the server also sends a message back to its sender
  bool deflate = false;          // offer permessage-deflate (as browsers do)
  double duration = 10;          // measured seconds
  double warmup = 2;             // seconds of traffic before measuring
  double drain = 3;              // at most this long to wait for messages in flight at the end
  double connect_rate = 2000;    // new connections per second while setting up
  pid_t pid = 0;                 // server process, for its CPU time and memory: pids[0]
  std::vector<pid_t> pids;       // every server process (a cluster: nodes and Redis)
  std::size_t threads = 1;       // bench event loops
  std::size_t source_ips = 0;    // bind to 127.0.0.1..N round robin; 0 = kernel's choice
};

struct ParsedOptions {
  std::optional<BenchOptions> options;  // set when the run should start
  int exit_code = 0;                    // otherwise exit with this...
  std::string output;                   // ...after printing this
};

ParsedOptions parse_bench_options(int argc, const char* const* argv);

}  // namespace parley::bench
