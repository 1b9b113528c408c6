// Server configuration: command-line flags, each with a PARLEY_* environment
// variable equivalent (flags win). Invalid values fail at start with one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace parley::app {

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  bool echo = false;  // enables /echo, the conformance-test endpoint
  std::size_t max_message_size = 1 << 20;
  // Connections and output (docs/SECURITY.md, "Connections and output").
  // Hard cap on output queued for one client; chat output past it drops the
  // client (close 1013) rather than letting one slow reader grow our memory.
  std::size_t max_pending_output = 16 << 20;
  // Slow consumers (redis' client-output-buffer-limit, soft and hard): above
  // the soft limit a connection is not read from until its output drains,
  // and staying above it for slow_consumer_seconds drops the client.
  std::size_t soft_pending_output = 1 << 20;
  double slow_consumer_seconds = 10;
  // The whole HTTP phase of a connection (every request on it, not each), and
  // a closing connection's time to finish the close handshake.
  double handshake_timeout = 10;
  std::size_t http_max_requests = 100;  // per connection; the last says Connection: close
  double ping_interval = 30;            // seconds of silence before we ping
  double idle_timeout = 60;             // seconds of silence before we close
  double shutdown_timeout = 5;          // seconds to close everyone on SIGTERM
  std::string log_level = "info";
  std::string data_dir = "./parley-data";
  std::size_t threads = 0;  // event loops; 0 = one per core

  // Chat (parley.v1 and plain text).
  std::string history = "sqlite";      // "sqlite" (durable) or "off" (memory only)
  std::size_t history_retain = 10000;  // messages kept per room; 0 = all
  double history_retain_days = 0;      // 0 = forever
  std::string sync = "normal";         // "normal": survives a crash; "full": power loss too
  std::size_t join_history = 50;       // messages sent on join
  std::size_t max_text_bytes = 4000;   // longest chat message text
  // Requests (JSON) or messages (plain text) per connection per second, with
  // a burst that covers a client re-joining all its rooms and resending its
  // outbox, or a seed page pasting a few hundred lines.
  double rate_per_sec = 50;
  double rate_burst = 500;
};

struct ConfigResult {
  std::optional<Config> config;  // set when the server should start
  int exit_code = 0;             // otherwise: exit with this code...
  std::string output;            // ...after printing this (help, or a one-line error)
};

ConfigResult parse_config(int argc, const char* const* argv);

}  // namespace parley::app
