#include "app/metrics.h"

#include "app/server_context.h"
#include "http/response.h"

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
};

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

std::string health_response(bool head_only, bool close) {
  http::Response r = no_store("application/json", close);
  r.body = "{\"status\":\"ok\"}\n";
  return http::serialize(r, head_only);
}

std::string metrics_response(const SharedServices& services, bool head_only, bool close) {
  http::Response r = no_store("text/plain; version=0.0.4; charset=utf-8", close);
  for (const Metric& m : kMetrics) {
    uint64_t sum = 0;
    for (const LoopContext* loop : services.loops) sum += (loop->stats.*m.counter).get();
    metric(r.body, m.name, m.help, m.type, sum);
  }
  metric(r.body, "parley_event_loops", "Event loops (threads serving connections).", "gauge",
         services.loops.size());
  if (services.config.tls()) append_tls_metrics(r.body, services);
  return http::serialize(r, head_only);
}

}  // namespace parley::app
