#include "app/metrics.h"

#include "app/server_context.h"
#include "chat/history.h"
#include "chat/json_writer.h"
#include "http/response.h"
#include "store/history_store.h"

namespace parley::app {
namespace {

http::Response no_store(const char* content_type, bool close) {
  http::Response r;
  r.headers.push_back({"Content-Type", content_type});
  r.headers.push_back({"Cache-Control", "no-store"});
  if (close) r.headers.push_back({"Connection", "close"});
  return r;
}

void metric(std::string& out, const char* name, const char* help, const char* type,
            uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

// One metric: its name, help, type, and how to read it from a loop's stats.
struct Metric {
  const char* name;
  const char* help;
  const char* type;
  const Counter LoopStats::*counter;
};

constexpr Metric kMetrics[] = {
    {"parley_connections_accepted_total", "TCP connections accepted.", "counter",
     &LoopStats::connections_accepted},
    {"parley_websocket_upgrades_total", "WebSocket handshakes completed.", "counter",
     &LoopStats::websocket_upgrades},
    {"parley_websocket_connections", "WebSocket connections open.", "gauge",
     &LoopStats::websocket_open},
    {"parley_messages_received_total", "WebSocket messages received.", "counter",
     &LoopStats::messages_received},
    {"parley_slow_consumers_dropped_total", "Clients dropped for not reading their output.",
     "counter", &LoopStats::slow_consumers_dropped},
    {"parley_http_requests_total", "HTTP requests answered (upgrades included).", "counter",
     &LoopStats::http_requests},
    {"parley_http_timeouts_total",
     "Connections closed because their HTTP phase outlived --handshake-timeout.", "counter",
     &LoopStats::http_timeouts},
    {"parley_reading_paused_total",
     "Times a connection stopped being read because its output was over "
     "--soft-pending-output.",
     "counter", &LoopStats::reading_paused},
    // Edge (docs/SECURITY.md).
    {"parley_refused_server_full_total",
     "Connections answered 503 at accept: --max-connections were open.", "counter",
     &LoopStats::refused_server_full},
    {"parley_refused_address_full_total",
     "Connections answered 429: their address had --max-connections-per-ip open.", "counter",
     &LoopStats::refused_address_full},
    {"parley_refused_handshake_rate_total",
     "WebSocket handshakes answered 429: over --handshake-rate-per-ip.", "counter",
     &LoopStats::refused_handshake_rate},
    {"parley_refused_origin_total",
     "WebSocket handshakes answered 403: Origin not allowed (--allowed-origins).", "counter",
     &LoopStats::refused_origin},
    {"parley_refused_metrics_total", "/metrics requests refused (404 or 401).", "counter",
     &LoopStats::refused_metrics},
    // Inflate and byte rates, refusals (docs/SECURITY.md, "What is logged and counted").
    {"parley_policy_closes_total",
     "WebSocket connections closed 1008 by the chat's abuse guard (too many errors or drops).",
     "counter", &LoopStats::policy_closes},
    {"parley_messages_too_big_total",
     "WebSocket connections closed 1009: a message over the connection's limit (inflated size "
     "for compressed ones).",
     "counter", &LoopStats::messages_too_big},
    {"parley_inflated_bytes_total", "Bytes inflated (permessage-deflate).", "counter",
     &LoopStats::inflated_bytes},
    {"parley_inflate_waits_total",
     "Times a connection's input waited because it had inflated --inflate-rate bytes.", "counter",
     &LoopStats::inflate_waits},
};

// The chat's refusals by reason, one labelled counter.
void refusal_metrics(std::string& out, const SharedServices& services) {
  const char* name = "parley_chat_refusals_total";
  out.append("# HELP ").append(name).append(
      " Chat messages and requests refused: rate_limited (--rate, --rate-per-ip, history and "
      "search in flight), byte_rate (--byte-rate, --byte-rate-per-ip), text_too_long "
      "(--max-text-bytes), room_limit (--max-rooms).\n");
  out.append("# TYPE ").append(name).append(" counter\n");
  constexpr std::pair<chat::Refused, const char*> kReasons[] = {
      {chat::Refused::RateLimited, "rate_limited"},
      {chat::Refused::ByteRate, "byte_rate"},
      {chat::Refused::TextTooLong, "text_too_long"},
      {chat::Refused::RoomLimit, "room_limit"},
  };
  for (const auto& [reason, label] : kReasons) {
    uint64_t sum = 0;
    for (const LoopContext* loop : services.loops) {
      sum += loop->stats.chat_refusals[static_cast<std::size_t>(reason)].get();
    }
    out.append(name).append("{reason=\"").append(label).append("\"} ");
    out.append(std::to_string(sum)).append("\n");
  }
}

// The SQLite store's counters (store/history_store.h Stats).
void store_metrics(std::string& out, const store::HistoryStore& store) {
  const store::HistoryStore::Stats s = store.stats();
  const std::pair<const char*, uint64_t> gauges[] = {
      {"parley_store_database_bytes", s.database_bytes},
      {"parley_store_used_bytes", s.used_bytes},
      {"parley_store_wal_bytes", s.wal_bytes},
      {"parley_store_pending_appends", s.pending_appends},
      {"parley_store_pending_bytes", s.pending_bytes},
  };
  const char* gauge_help[] = {
      "History database size: pages x page size.",
      "History database bytes in use (what --history-max-bytes caps).",
      "History write-ahead log size after the last commit.",
      "Appends queued for the history writer.",
      "Bytes of appends in flight to the history writer (--store-pending-bytes).",
  };
  for (std::size_t i = 0; i < std::size(gauges); ++i) {
    metric(out, gauges[i].first, gauge_help[i], "gauge", gauges[i].second);
  }
  const std::tuple<const char*, const char*, uint64_t> counters[] = {
      {"parley_store_appends_committed_total", "Entries committed to the history.",
       s.appends_committed},
      {"parley_store_appends_duplicate_total", "Resends answered with the original entry.",
       s.appends_duplicate},
      {"parley_store_append_errors_total", "Appends that failed (nothing stored, not acked).",
       s.append_errors},
      {"parley_store_appends_refused_total", "Appends refused: writer queue full or closed.",
       s.appends_refused},
      {"parley_store_appends_over_budget_total",
       "Appends refused over --store-pending-room-bytes or --store-pending-bytes (of the refused).",
       s.appends_over_budget},
      {"parley_store_transactions_total", "History transactions committed.", s.transactions},
      {"parley_store_reads_total", "History reads answered.", s.reads},
      {"parley_store_read_errors_total", "History reads that failed.", s.read_errors},
      {"parley_store_reads_cancelled_total", "History reads skipped: their connection was gone.",
       s.reads_cancelled},
      {"parley_store_deleted_by_retention_total", "Entries deleted by retention.",
       s.deleted_by_retention},
      {"parley_store_deleted_by_cap_total", "Entries deleted by --history-max-bytes.",
       s.deleted_by_cap},
      {"parley_store_checkpoints_total", "WAL checkpoints completed.", s.checkpoints},
      {"parley_store_checkpoint_errors_total", "WAL checkpoints that failed.", s.checkpoint_errors},
  };
  for (const auto& [name, help, value] : counters) metric(out, name, help, "counter", value);
}

// The chat core's bounded resources (docs/SECURITY.md, "Chat").
void chat_metrics(std::string& out, const chat::ChatHub& chat) {
  metric(out, "parley_chat_rooms", "Rooms open (someone in them, or work in flight).", "gauge",
         chat.live_rooms());
  metric(out, "parley_chat_rooms_refused_total",
         "Joins refused because --max-rooms rooms were open.", "counter", chat.rooms_refused());
  metric(out, "parley_chat_cache_bytes", "Bytes of messages cached in memory (--cache-bytes).",
         "gauge", chat.cache_bytes());
  metric(out, "parley_chat_cache_evicted_messages_total",
         "Cached messages dropped from memory to stay within --cache-bytes.", "counter",
         chat.cache_evicted_messages());
}

// Native TLS: handshakes done and failed, by cause (net/tls_stream.h).
void append_tls_metrics(std::string& out, const SharedServices& services) {
  uint64_t done = 0, not_tls = 0, protocol = 0, incomplete = 0;
  for (const LoopContext* loop : services.loops) {
    done += loop->tls_stats.handshakes.load(std::memory_order_relaxed);
    not_tls += loop->tls_stats.failed_not_tls.load(std::memory_order_relaxed);
    protocol += loop->tls_stats.failed_protocol.load(std::memory_order_relaxed);
    incomplete += loop->tls_stats.failed_incomplete.load(std::memory_order_relaxed);
  }
  metric(out, "parley_tls_handshakes_total", "TLS handshakes completed.", "counter", done);
  const char* name = "parley_tls_handshake_failures_total";
  out.append("# HELP ").append(name).append(
      " TLS handshakes that failed: not_tls (plaintext on the TLS port), protocol (refused by "
      "OpenSSL: version, cipher, ALPN, bad records), incomplete (closed or timed out first).\n");
  out.append("# TYPE ").append(name).append(" counter\n");
  for (auto [reason, n] : {std::pair{"not_tls", not_tls}, std::pair{"protocol", protocol},
                           std::pair{"incomplete", incomplete}}) {
    out.append(name).append("{reason=\"").append(reason).append("\"} ");
    out.append(std::to_string(n)).append("\n");
  }
}

}  // namespace

std::string health_response(const SharedServices& services, bool head_only, bool close) {
  http::Response r = no_store("application/json", close);
  Status health = services.history != nullptr ? services.history->health() : Status{};
  // Redis: ready once guest-N numbers are the cluster's (chat/redis_guests.h).
  if (health && services.guests != nullptr && !services.guests->leased()) {
    health = Error{Errc::Unavailable, "starting: no guest numbers leased from Redis yet"};
  }
  if (health) {
    r.body = "{\"status\":\"ok\"}\n";
  } else {
    r.status = 503;
    r.body = "{\"status\":\"unavailable\",\"reason\":";
    chat::json::append_string(r.body, health.error().message);
    r.body += "}\n";
  }
  return http::serialize(r, head_only);
}

std::string metrics_response(const SharedServices& services, bool head_only, bool close) {
  http::Response r = no_store("text/plain; version=0.0.4; charset=utf-8", close);
  for (const Metric& m : kMetrics) {
    uint64_t sum = 0;
    for (const LoopContext* loop : services.loops) sum += (loop->stats.*m.counter).get();
    metric(r.body, m.name, m.help, m.type, sum);
  }
  chat_metrics(r.body, services.chat);
  refusal_metrics(r.body, services);
  metric(r.body, "parley_event_loops", "Event loops (threads serving connections).", "gauge",
         services.loops.size());
  if (services.history != nullptr) {
    metric(r.body, "parley_history_healthy",
           "1 while the history serves; 0 while it cannot (see /healthz for why).", "gauge",
           services.history->health() ? 1 : 0);
  }
  if (services.store != nullptr) store_metrics(r.body, *services.store);
  if (const AddressTable* table = services.addresses) {  // edge
    metric(r.body, "parley_connections_open", "Connections counted against --max-connections.",
           "gauge", table->open_connections());
    metric(r.body, "parley_addresses_tracked",
           "Client addresses with a connection or a rate still remembered.", "gauge",
           table->addresses());
    metric(r.body, "parley_rate_per_ip_refused_total",
           "Chat messages refused by --rate-per-ip (the address's shared rate).", "counter",
           table->messages_refused());
    metric(r.body, "parley_byte_rate_per_ip_refused_total",
           "Chat messages refused by --byte-rate-per-ip (the address's shared byte rate).",
           "counter", table->bytes_refused());
  }
  if (services.config.tls()) append_tls_metrics(r.body, services);
  return http::serialize(r, head_only);
}

}  // namespace parley::app
