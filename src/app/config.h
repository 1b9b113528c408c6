// Server configuration: command-line flags, each with a PARLEY_* environment
// variable equivalent (flags win). Invalid values fail at start with one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/origin_policy.h"
#include "net/ip_address.h"

namespace parley::auth {
class JwtVerifier;
}

namespace parley::app {

class ApiKeys;

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
  // Storage (docs/SECURITY.md "Storage"): the SQLite history's pages in use, in bytes; past it
  // the largest rooms lose their oldest entries. 0 = no cap.
  uint64_t history_max_bytes = uint64_t{1} << 30;
  // Store budgets (docs/SECURITY.md "Store budgets"): bytes of messages in flight to the SQLite
  // history, per room and overall; past either a send is refused (rate_limited / a notice).
  // 0 = no limit.
  uint64_t store_pending_room_bytes = uint64_t{1} << 20;
  uint64_t store_pending_bytes = uint64_t{16} << 20;
  std::size_t join_history = 50;  // messages sent on join
  // Recent messages kept in memory per room to answer joins without the
  // store: at most this many, this many bytes per room, and this many bytes
  // across all rooms (least recently used rooms give theirs up first).
  std::size_t cache_per_room = 256;
  std::size_t cache_room_bytes = 1 << 20;
  std::size_t cache_bytes = 64 << 20;
  // Rooms open at once (someone in them), across the server; 0 = no limit.
  std::size_t max_rooms = 10000;
  // Rooms with at least this many connections get their presence coalesced
  // (one event per 100 ms instead of one per join/leave); 0 = never.
  std::size_t presence_batch_above = 100;
  std::size_t max_text_bytes = 4000;  // longest chat message text
  // Requests (JSON) or messages (plain text) per connection per second, with
  // a burst that covers a client re-joining all its rooms and resending its
  // outbox, or a seed page pasting a few hundred lines.
  double rate_per_sec = 50;
  double rate_burst = 500;

  // Identity: JWT authentication (docs/PROTOCOL-AUTH.md) and resume tokens.
  // `--auth jwt` loads and checks --jwt-key at start; the verifier is kept
  // here so the server uses exactly the key that was validated.
  std::string auth = "none";          // "none": guests name themselves; "jwt": a token is required
  std::string jwt_key_file;           // HS256 secret, or RS256 / ES256 public key (PEM)
  std::string jwt_audience;           // "" = none expected (tokens naming one are refused)
  uint32_t jwt_leeway = 30;           // seconds of clock skew tolerated on exp, nbf, iat
  uint32_t jwt_refresh_warning = 60;  // seconds before the end: `token_expiring`
  std::shared_ptr<const auth::JwtVerifier> jwt;   // set when auth == "jwt"
  uint64_t resume_ttl = uint64_t{7} * 24 * 3600;  // seconds a resume token stays valid

  // permessage-deflate (RFC 7692), see docs/SECURITY.md "Compression".
  // "on": accepted when offered, each message compressed on its own, so a
  // broadcast is compressed once for all its recipients; "takeover": both
  // sides of each connection keep their compression context (smaller
  // frames, CPU and memory per connection); "off": never negotiated.
  std::string deflate = "on";
  std::size_t deflate_threshold = 128;  // shorter messages are sent uncompressed

  // Backend HTTP API (docs/API.md). Without a key file the API is off and
  // its paths answer 404 `api_disabled`; the keys are loaded and checked at
  // start, and kept here so the server uses exactly what was validated.
  std::string api_key_file;
  double api_rate = 20;    // requests per second per key...
  double api_burst = 100;  // ...and the burst above it
  std::shared_ptr<const ApiKeys> api_keys;
  // Edge: connection caps, rates per address, trusted proxies, allowed
  // origins, metrics protection (docs/SECURITY.md, one section each).
  // For every cap and rate, 0 means no limit. Defaults suit a site some of
  // whose users share one address behind NAT.
  std::size_t max_connections = 10000;       // open at once; more get 503
  std::size_t max_connections_per_ip = 256;  // per address (IPv6: per /64); more get 429
  double handshake_rate_per_ip = 20;         // WebSocket handshakes per address per second
  double handshake_burst_per_ip = 100;
  double rate_per_ip = 200;  // chat requests per address per second, all its connections
  double rate_burst_per_ip = 2000;
  std::vector<net::Cidr> trusted_proxies;  // peers whose X-Forwarded-For / X-Real-IP we believe
  http::OriginPolicy allowed_origins;      // beyond "no Origin" and "same host"
  std::string metrics_address;             // "host:port" of a listener for /metrics only
  std::string metrics_host;                // metrics_address, parsed
  uint16_t metrics_port = 0;
  std::string metrics_token_file;  // /metrics needs "Authorization: Bearer <its text>"
  std::string metrics_token;       // read from metrics_token_file at start
  // Uploads: files and images (docs/SECURITY.md, "Uploads").
  uint64_t max_upload_bytes = 10 << 20;            // one file
  uint64_t uploads_max_bytes = uint64_t{1} << 30;  // all files together (the disk budget)
  double upload_timeout = 120;                     // seconds for one upload's body
  std::size_t upload_concurrency = 16;             // uploads in flight, server-wide
  double upload_rate = 10;                         // uploads per minute per user...
  double upload_burst = 20;                        // ...with this burst
  uint64_t upload_unattached_ttl = 3600;           // seconds an upload waits to be attached
  // Scale-out on Redis (docs/SCALING.md): with a URL, history, fan-out,
  // presence and names are shared by every node using the same Redis.
  std::string redis;        // redis://[[user]:password@]host[:port][/db]; "" = one node
  std::string node_id;      // this node in the cluster; "" = hostname-pid
  std::string secret_file;  // resume-token secret; "" = data-dir/secret.key, or in Redis
  // Native TLS (docs/DEPLOY.md, "Native TLS"): with a certificate chain and
  // its key, --port speaks TLS (reloaded on SIGHUP); --plain-port adds a
  // plain HTTP listener beside it (off by default: no cleartext port next to
  // the TLS one unless asked for).
  std::string tls_cert_file;  // PEM: the certificate, then its chain
  std::string tls_key_file;   // PEM private key
  int plain_port = -1;        // -1: none; 0 picks a free one
  bool tls() const { return !tls_cert_file.empty(); }
};

struct ConfigResult {
  std::optional<Config> config;  // set when the server should start
  int exit_code = 0;             // otherwise: exit with this code...
  std::string output;            // ...after printing this (help, or a one-line error)
};

ConfigResult parse_config(int argc, const char* const* argv);

}  // namespace parley::app
