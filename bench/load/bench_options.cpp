#include "load/bench_options.h"

#include <CLI/CLI.hpp>
#include <sstream>

namespace parley::bench {

ParsedOptions parse_bench_options(int argc, const char* const* argv) {
  BenchOptions o;
  CLI::App cli{"parley-bench: WebSocket load generator (one JSON summary line on stdout)",
               "parley-bench"};
  cli.add_option("mode", o.mode, "broadcast | echo | idle | connect | ack | join")
      ->required()
      ->check(CLI::IsMember({"broadcast", "echo", "idle", "connect", "ack", "join"}));
  cli.add_option("--url", o.url, "ws://HOST:PORT/PATH (IPv4)")->capture_default_str();
  cli.add_option("--clients,-c", o.clients, "Connections (broadcast: room members)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cli.add_option("--senders,-s", o.senders, "broadcast, ack: clients that also send")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cli.add_option("--size,-b", o.size,
                 "Message size in bytes (at least the ~40-byte header; ack: of the text)")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  cli.add_option("--rate,-r", o.rate,
                 "broadcast, ack: total messages/s; 0 = as fast as --window allows")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli.add_option("--window,-w", o.window,
                 "broadcast, ack --rate 0: messages in flight per sender (broadcast: acked by "
                 "one receiver; ack: unacknowledged sends)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cli.add_option("--in-flight,-p", o.in_flight, "echo: messages in flight per client")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cli.add_option("--concurrency,-k", o.concurrency,
                 "connect: handshakes in flight; join: joining connections in flight")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cli.add_option("--room", o.room, "ack, join: parley.v1 room (default: a new room per run)")
      ->check([](const std::string& room) -> std::string {
        const bool ok = !room.empty() && room.size() <= 64 &&
                        room.find_first_not_of(
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789._-") == std::string::npos;
        return ok ? "" : "a room is 1 to 64 of A-Z a-z 0-9 . _ -";
      });
  cli.add_option("--rooms", o.rooms,
                 "ack: spread the clients over N rooms (<room>-0 ...), client n in room n % N; "
                 "idle: client n connects to the URL's path + \"-<n % N>\" (/ws/idle -> "
                 "/ws/idle-0 ...: a room each with --rooms C)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cli.add_option("--history-size", o.history,
                 "join: messages the room must hold; missing ones are sent (and acked) first")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cli.add_option("--since", o.since_back, "join: join with since = (last id - N)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 53));
  cli.add_flag("--cold", o.cold,
               "join: no member stays in the room, so each join reads history from the store");
  cli.add_flag("--echo-to-sender", o.echo_to_sender,
               "broadcast: the server sends each message to its sender too");
  cli.add_flag("--deflate", o.deflate,
               "Offer permessage-deflate as a browser does; the server's compressed messages are "
               "inflated (ours go uncompressed)");
  cli.add_option("--duration,-d", o.duration, "Measured seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--warmup", o.warmup, "Seconds of load before measuring")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli.add_option("--drain", o.drain, "Seconds to wait for in-flight messages at the end")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli.add_option("--connect-rate", o.connect_rate, "New connections/s while setting up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--pid", o.pids,
                 "Server PID: report its CPU time (and RSS in idle mode); a cluster's "
                 "PIDs separated by commas report the CPU time of all of them")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cli.add_option("--threads,-t", o.threads, "Bench event loops")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cli.add_option("--source-ips", o.source_ips,
                 "Bind clients to 127.0.0.1..127.0.0.N round robin (past ~28k connections)")
      ->check(CLI::Range(0, 254))
      ->capture_default_str();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::ostringstream out, err;
    cli.exit(e, out, err);
    return {std::nullopt, 0, out.str()};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, 2, std::string("parley-bench: ") + e.what() + " (see --help)\n"};
  }
  if (!o.pids.empty()) o.pid = o.pids.front();
  if ((o.mode == "broadcast" || o.mode == "ack") && o.senders > o.clients) {
    return {std::nullopt, 2, "parley-bench: --senders cannot exceed --clients\n"};
  }
  if ((o.mode == "ack" || o.mode == "idle") && o.rooms > o.clients) {
    return {std::nullopt, 2, "parley-bench: --rooms cannot exceed --clients\n"};
  }
  if (o.mode == "broadcast" && o.rate == 0 && !o.echo_to_sender &&
      o.clients < o.senders + o.threads) {
    // Each loop's acks come from a member of that loop that is not a sender.
    return {std::nullopt, 2,
            "parley-bench: --rate 0 needs --clients >= --senders + --threads "
            "(one non-sending receiver per loop counts the acks)\n"};
  }
  return {o, 0, {}};
}

}  // namespace parley::bench
