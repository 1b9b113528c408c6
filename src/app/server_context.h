// What the connections of one event loop share: configuration, their loop,
// the connection list, and the server-wide services (embedded files, chat
// rooms, identities), which are either immutable or safe to call from any loop.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "app/address_table.h"
#include "app/config.h"
#include "app/connection_list.h"
#include "app/refusal_log.h"
#include "chat/chat_hub.h"
#include "chat/identity.h"
#include "chat/json_session.h"
#include "chat/redis_guests.h"
#include "http/static_files.h"
#include "net/event_loop.h"
#include "net/tls_stream.h"

namespace parley::store {
class HistoryStore;
}  // namespace parley::store

namespace parley::app {

struct LoopContext;
struct ApiService;

// Server-wide, shared by all loops.
struct SharedServices {
  const Config& config;
  const http::StaticFiles& static_files;
  chat::ChatHub& chat;
  const chat::Identity& identity;
  const chat::JsonSessionOptions& json_options;
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<uint64_t> next_guest{1};    // plain-text clients are guest-1, guest-2, ...
  std::string run_tag;                    // random per start: guests' user ids stay unique
  std::vector<const LoopContext*> loops;  // for /metrics
  ApiService* api = nullptr;              // backend API; null when it is off
  class Uploads* uploads = nullptr;       // POST /upload, GET /files/ (app/uploads.h)
  // Store health (issue 7): /healthz answers 503 while the history cannot serve, and /metrics
  // shows the SQLite store's counters (null with --history off).
  const chat::History* history = nullptr;
  const store::HistoryStore* store = nullptr;
  // Edge: connection caps and rates per address (null in tests: no limits).
  AddressTable* addresses = nullptr;
  // Redis: guest-N numbers unique across the nodes (null: this node counts alone).
  chat::RedisGuests* guests = nullptr;
};

// A counter written by one loop's thread and read by any (GET /metrics).
// Relaxed atomics: a plain store on x86, no lock prefix, since each counter
// has a single writer.
class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Per loop; /metrics sums them (app/metrics.cpp names and explains each).
struct LoopStats {
  Counter connections_accepted;
  Counter websocket_upgrades;
  Counter websocket_open;
  Counter messages_received;
  Counter slow_consumers_dropped;
  Counter http_requests;
  Counter http_timeouts;
  Counter reading_paused;
  // Edge (docs/SECURITY.md): refusals at accept and at the upgrade.
  Counter refused_server_full;
  Counter refused_address_full;
  Counter refused_handshake_rate;
  Counter refused_origin;
  Counter refused_metrics;
  // Inflate and byte rates, and the chat's refusals (docs/SECURITY.md,
  // "What is logged and counted").
  std::array<Counter, static_cast<std::size_t>(chat::Refused::kCount)> chat_refusals;  // by reason
  Counter policy_closes;     // 1008: the chat closed an abusive client
  Counter messages_too_big;  // 1009: a message over the connection's limit
  Counter inflated_bytes;    // bytes inflated (permessage-deflate)
  Counter inflate_waits;     // times a connection's input waited for --inflate-rate
};

// One per event loop; touched only from that loop's thread.
struct LoopContext {
  LoopContext(SharedServices& s, net::EventLoop& l, uint32_t i)
      : services(s), config(s.config), loop(l), index(i), connections(l) {}

  SharedServices& services;
  const Config& config;
  net::EventLoop& loop;
  uint32_t index;
  LoopStats stats;
  RefusalLog refusal_log;   // log lines about refused clients, rate limited
  net::TlsStats tls_stats;  // native TLS: handshakes and their failures
  bool shutting_down = false;
  std::size_t refusing =
      0;  // connections answering a refusal at accept (Connection::start_refused)
  ConnectionList connections;  // last: connections use the fields above while they go
};

// Seconds from configuration as a steady-clock duration.
inline net::Clock::duration seconds(double s) {
  return std::chrono::duration_cast<net::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace parley::app
