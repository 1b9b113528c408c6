#include "app/config.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "app/api_keys.h"
#include "app/redis_engine.h"
#include "auth/jwt_verifier.h"
#include "base/strings.h"
#include "store/redis/url.h"

namespace parley::app {
namespace {

// Each flag with its PARLEY_* environment variable and its default in --help.
template <typename T>
CLI::Option* flag(CLI::App& cli, const std::string& name, T& value, const std::string& help,
                  const std::string& env) {
  return cli.add_option(name, value, help)->envname(env)->capture_default_str();
}

void add_listening_options(CLI::App& cli, Config& c) {
  flag(cli, "--host", c.host, "Address to listen on", "PARLEY_HOST");
  flag(cli, "--port", c.port, "TCP port (0 picks a free one)", "PARLEY_PORT");
  cli.add_flag("--echo", c.echo, "Enable the /echo endpoint (conformance tests)")
      ->envname("PARLEY_ECHO");
  flag(cli, "--threads", c.threads, "Event loops (0 = one per core)", "PARLEY_THREADS")
      ->check(CLI::Range(0, 256));
  flag(cli, "--log-level", c.log_level, "trace, debug, info, warn, error or off",
       "PARLEY_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  flag(cli, "--data-dir", c.data_dir, "Folder for the server's data", "PARLEY_DATA_DIR");
  flag(cli, "--shutdown-timeout", c.shutdown_timeout, "Seconds to close clients on SIGTERM",
       "PARLEY_SHUTDOWN_TIMEOUT")
      ->check(CLI::PositiveNumber);
}

// Connections and output (docs/SECURITY.md, "Connections and output").
void add_connection_limits(CLI::App& cli, Config& c) {
  auto positive = CLI::PositiveNumber;
  flag(cli, "--max-message-size", c.max_message_size, "Largest message accepted, in bytes",
       "PARLEY_MAX_MESSAGE_SIZE")
      ->check(positive);
  flag(cli, "--max-pending-output", c.max_pending_output,
       "Bytes queued for one client before it is dropped", "PARLEY_MAX_PENDING_OUTPUT")
      ->check(positive);
  flag(cli, "--soft-pending-output", c.soft_pending_output,
       "Bytes queued for one client above which it is not read from, and dropped after "
       "--slow-consumer-seconds",
       "PARLEY_SOFT_PENDING_OUTPUT")
      ->check(positive);
  flag(cli, "--slow-consumer-seconds", c.slow_consumer_seconds,
       "Seconds a client may stay above --soft-pending-output", "PARLEY_SLOW_CONSUMER_SECONDS")
      ->check(positive);
  flag(cli, "--handshake-timeout", c.handshake_timeout,
       "Seconds a connection may spend in HTTP (all its requests), or closing",
       "PARLEY_HANDSHAKE_TIMEOUT")
      ->check(positive);
  flag(cli, "--http-max-requests", c.http_max_requests, "HTTP requests per connection",
       "PARLEY_HTTP_MAX_REQUESTS")
      ->check(positive);
  flag(cli, "--ping-interval", c.ping_interval, "Seconds of silence before a ping",
       "PARLEY_PING_INTERVAL")
      ->check(positive);
  flag(cli, "--idle-timeout", c.idle_timeout, "Seconds of silence before closing",
       "PARLEY_IDLE_TIMEOUT")
      ->check(positive);
}

void add_chat_options(CLI::App& cli, Config& c) {
  auto positive = CLI::PositiveNumber;
  flag(cli, "--history", c.history, "Chat history: sqlite (durable) or off (memory only)",
       "PARLEY_HISTORY")
      ->check(CLI::IsMember({"sqlite", "off"}));
  flag(cli, "--history-retain", c.history_retain, "Messages kept per room (0 = all)",
       "PARLEY_HISTORY_RETAIN");
  flag(cli, "--history-retain-days", c.history_retain_days, "Days messages are kept (0 = forever)",
       "PARLEY_HISTORY_RETAIN_DAYS")
      ->check(CLI::NonNegativeNumber);
  flag(cli, "--sync", c.sync, "normal (survives a crash) or full (survives power loss)",
       "PARLEY_SYNC")
      ->check(CLI::IsMember({"normal", "full"}));
  flag(cli, "--join-history", c.join_history, "Messages sent to a client on join",
       "PARLEY_JOIN_HISTORY")
      ->check(CLI::Range(0, 200));
  flag(cli, "--cache-bytes", c.cache_bytes,
       "Bytes of recent messages cached in memory across all rooms (0 = no limit)",
       "PARLEY_CACHE_BYTES");
  flag(cli, "--cache-room-bytes", c.cache_room_bytes,
       "Bytes of recent messages cached per room (0 = no limit)", "PARLEY_CACHE_ROOM_BYTES");
  flag(cli, "--max-rooms", c.max_rooms, "Rooms open at once across the server (0 = no limit)",
       "PARLEY_MAX_ROOMS");
  flag(cli, "--presence-batch-above", c.presence_batch_above,
       "Connections in a room from which presence is coalesced (0 = never)",
       "PARLEY_PRESENCE_BATCH_ABOVE");
  flag(cli, "--max-text-bytes", c.max_text_bytes, "Longest chat message text, in bytes",
       "PARLEY_MAX_TEXT_BYTES")
      ->check(positive);
  flag(cli, "--rate", c.rate_per_sec, "Chat messages per connection per second", "PARLEY_RATE")
      ->check(positive);
  flag(cli, "--rate-burst", c.rate_burst, "Burst of chat messages allowed above --rate",
       "PARLEY_RATE_BURST")
      ->check(positive);
}

// Identity flags: JWT authentication and resume tokens.
void add_identity_options(CLI::App& cli, Config& c) {
  cli.add_option("--auth", c.auth,
                 "none (guests pick a name) or jwt (a JSON Web Token is required)")
      ->envname("PARLEY_AUTH")
      ->check(CLI::IsMember({"none", "jwt"}))
      ->capture_default_str();
  cli.add_option("--jwt-key", c.jwt_key_file,
                 "File with the HS256 secret, or the RS256/ES256 public key (PEM)")
      ->envname("PARLEY_JWT_KEY");
  cli.add_option("--jwt-audience", c.jwt_audience, "The `aud` tokens must carry (none if empty)")
      ->envname("PARLEY_JWT_AUDIENCE");
  cli.add_option("--jwt-leeway", c.jwt_leeway, "Seconds of clock skew tolerated on exp/nbf/iat")
      ->envname("PARLEY_JWT_LEEWAY")
      ->check(CLI::Range(0, 300))
      ->capture_default_str();
  cli.add_option("--jwt-refresh-warning", c.jwt_refresh_warning,
                 "Seconds before a token's end that the client is told to refresh it")
      ->envname("PARLEY_JWT_REFRESH_WARNING")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cli.add_option("--resume-ttl", c.resume_ttl,
                 "How long a resume token stays valid: seconds, or with a unit (90m, 12h, 7d)")
      ->envname("PARLEY_RESUME_TTL")
      ->transform(CLI::AsNumberWithUnit(
          std::map<std::string, uint64_t>{{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}))
      ->check(CLI::Range(uint64_t{60}, uint64_t{10} * 365 * 86400))
      ->capture_default_str();
}

// Loads the JWT key when --auth jwt; an error line otherwise.
std::optional<std::string> check_identity_options(Config& c) {
  if (c.auth != "jwt") {
    if (!c.jwt_key_file.empty() || !c.jwt_audience.empty()) {
      return "parley: --jwt-key and --jwt-audience need --auth jwt\n";
    }
    return std::nullopt;
  }
  if (c.jwt_key_file.empty()) return "parley: --auth jwt needs --jwt-key FILE\n";
  Result<auth::JwtKey> key = auth::JwtKey::from_file(c.jwt_key_file);
  if (!key) return "parley: --jwt-key " + key.error().message + "\n";
  auth::VerifierOptions options;
  if (!c.jwt_audience.empty()) options.audience = c.jwt_audience;
  options.leeway = std::chrono::seconds(c.jwt_leeway);
  c.jwt = std::make_shared<const auth::JwtVerifier>(*std::move(key), std::move(options));
  return std::nullopt;
}

// Scale-out on Redis (issue 11, docs/SCALING.md).
void add_redis_options(CLI::App& cli, Config& c) {
  cli.add_option("--redis", c.redis,
                 "Share rooms with other nodes through Redis: redis://[[user]:password@]host"
                 "[:port][/db] or unix:///path[?db=N] (rediss:// is not supported)")
      ->envname("PARLEY_REDIS");
  cli.add_option("--node-id", c.node_id, "This node's name in the cluster (default: host-pid)")
      ->envname("PARLEY_NODE_ID");
  cli.add_option("--secret-file", c.secret_file,
                 "File with the resume-token secret (default: data-dir/secret.key; with "
                 "--redis, kept in Redis and shared by every node)")
      ->envname("PARLEY_SECRET_FILE");
}

std::optional<std::string> check_redis_options(const Config& c) {
  if (c.redis.empty()) {
    if (!c.node_id.empty()) return "parley: --node-id needs --redis\n";
    return std::nullopt;
  }
  if (Result<redis::Endpoint> e = redis::parse_url(c.redis); !e) {
    return "parley: " + e.error().message + "\n";
  }
  if (!c.node_id.empty()) {
    if (Status s = check_node_id(c.node_id); !s) return "parley: " + s.error().message + "\n";
  }
  return std::nullopt;
}

// permessage-deflate (RFC 7692), docs/SECURITY.md "Compression".
void add_deflate_options(CLI::App& cli, Config& c) {
  flag(cli, "--deflate", c.deflate,
       "Compression when the client offers it: on (once per broadcast), takeover "
       "(a context per connection) or off",
       "PARLEY_DEFLATE")
      ->check(CLI::IsMember({"on", "takeover", "off"}));
  flag(cli, "--deflate-threshold", c.deflate_threshold,
       "Messages shorter than this many bytes are sent uncompressed", "PARLEY_DEFLATE_THRESHOLD");
}

// Backend HTTP API (docs/API.md).
void add_api_options(CLI::App& cli, Config& c) {
  cli.add_option("--api-key-file", c.api_key_file,
                 "File of backend API keys, one per line (`KEY` or `NAME KEY`); "
                 "without it the API is off")
      ->envname("PARLEY_API_KEY_FILE");
  flag(cli, "--api-rate", c.api_rate, "Backend API requests per second per key", "PARLEY_API_RATE")
      ->check(CLI::PositiveNumber);
  flag(cli, "--api-burst", c.api_burst, "Burst of backend API requests allowed above --api-rate",
       "PARLEY_API_BURST")
      ->check(CLI::Range(1.0, 1e9));
}

// Loads the API keys when a file is given; an error line otherwise.
std::optional<std::string> check_api_options(Config& c) {
  if (c.api_key_file.empty()) return std::nullopt;
  Result<ApiKeys> keys = ApiKeys::load(c.api_key_file);
  if (!keys) return "parley: --api-key-file " + keys.error().message + "\n";
  c.api_keys = std::make_shared<const ApiKeys>(*std::move(keys));
  return std::nullopt;
}

// Edge: connection caps, rates per address, trusted proxies, allowed origins,
// metrics protection (docs/SECURITY.md, a section each). The two lists are
// parsed after CLI11 is done, into `c`, by check_edge_options.
struct EdgeLists {
  std::string trusted_proxies;
  std::string allowed_origins;
};

void add_edge_options(CLI::App& cli, Config& c, EdgeLists& lists) {
  auto at_least_one = CLI::Range(1.0, 1e9);
  flag(cli, "--max-connections", c.max_connections,
       "Connections open at once; more are answered 503 (0 = no limit)", "PARLEY_MAX_CONNECTIONS");
  flag(cli, "--max-connections-per-ip", c.max_connections_per_ip,
       "Connections open at once per client address, IPv6 per /64; more are answered 429 "
       "(0 = no limit)",
       "PARLEY_MAX_CONNECTIONS_PER_IP");
  flag(cli, "--handshake-rate-per-ip", c.handshake_rate_per_ip,
       "WebSocket handshakes per client address per second; more are answered 429 (0 = no limit)",
       "PARLEY_HANDSHAKE_RATE_PER_IP")
      ->check(CLI::NonNegativeNumber);
  flag(cli, "--handshake-burst-per-ip", c.handshake_burst_per_ip,
       "Handshakes an address may make at once above --handshake-rate-per-ip",
       "PARLEY_HANDSHAKE_BURST_PER_IP")
      ->check(at_least_one);
  flag(cli, "--rate-per-ip", c.rate_per_ip,
       "Chat messages per client address per second, shared by all its connections "
       "(0 = no limit)",
       "PARLEY_RATE_PER_IP")
      ->check(CLI::NonNegativeNumber);
  flag(cli, "--rate-burst-per-ip", c.rate_burst_per_ip,
       "Burst of chat messages an address may send above --rate-per-ip", "PARLEY_RATE_BURST_PER_IP")
      ->check(at_least_one);
  flag(cli, "--trusted-proxies", lists.trusted_proxies,
       "Comma-separated addresses or CIDR blocks of reverse proxies whose X-Forwarded-For and "
       "X-Real-IP name the client (e.g. 127.0.0.1,::1)",
       "PARLEY_TRUSTED_PROXIES");
  flag(cli, "--allowed-origins", lists.allowed_origins,
       "Web pages, besides our own host's, that may open a WebSocket: comma-separated origins "
       "(https://example.com:8443), null (a page opened from a file) or * (any)",
       "PARLEY_ALLOWED_ORIGINS");
  flag(cli, "--metrics-address", c.metrics_address,
       "host:port of a separate listener that serves /metrics (e.g. 127.0.0.1:9090); "
       "otherwise /metrics is served only with --metrics-token-file",
       "PARLEY_METRICS_ADDRESS");
  flag(cli, "--metrics-token-file", c.metrics_token_file,
       "File holding a token that /metrics requires as \"Authorization: Bearer <token>\"",
       "PARLEY_METRICS_TOKEN_FILE");
}

// Parses the lists and reads the metrics token; an error line otherwise.
std::optional<std::string> check_edge_options(Config& c, const EdgeLists& lists) {
  std::string_view rest = lists.trusted_proxies;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view entry = trim_ows(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (entry.empty()) continue;
    Result<net::Cidr> block = net::Cidr::parse(entry);
    if (!block) return "parley: --trusted-proxies: " + block.error().message + "\n";
    c.trusted_proxies.push_back(*block);
  }
  Result<http::OriginPolicy> origins = http::OriginPolicy::parse(lists.allowed_origins);
  if (!origins) return "parley: --allowed-origins: " + origins.error().message + "\n";
  c.allowed_origins = *std::move(origins);
  if (!c.metrics_address.empty()) {
    Result<http::HostPort> where = http::parse_host_header(c.metrics_address);
    if (!where || !where->port) {
      return "parley: --metrics-address: expected host:port, e.g. 127.0.0.1:9090\n";
    }
    c.metrics_host = where->host;
    if (c.metrics_host.front() == '[')
      c.metrics_host = c.metrics_host.substr(1, c.metrics_host.size() - 2);
    c.metrics_port = *where->port;
  }
  if (!c.metrics_token_file.empty()) {
    std::ifstream in(c.metrics_token_file);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return "parley: --metrics-token-file: cannot read " + c.metrics_token_file + "\n";
    std::string token = text.str();
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || is_ows(token.back()))) {
      token.pop_back();
    }
    if (token.size() < 16) {
      return "parley: --metrics-token-file: the token must be at least 16 characters\n";
    }
    c.metrics_token = std::move(token);
  }
  return std::nullopt;
}

// Uploads: files and images (docs/SECURITY.md, "Uploads").
void add_upload_options(CLI::App& cli, Config& c) {
  auto positive = CLI::PositiveNumber;
  flag(cli, "--max-upload-bytes", c.max_upload_bytes, "Largest file one upload may carry",
       "PARLEY_MAX_UPLOAD_BYTES")
      ->check(positive);
  flag(cli, "--uploads-max-bytes", c.uploads_max_bytes,
       "Disk budget for all uploaded files together (0 = no limit)", "PARLEY_UPLOADS_MAX_BYTES");
  flag(cli, "--upload-timeout", c.upload_timeout, "Seconds one upload's body may take",
       "PARLEY_UPLOAD_TIMEOUT")
      ->check(positive);
  flag(cli, "--upload-concurrency", c.upload_concurrency, "Uploads in flight at once, server-wide",
       "PARLEY_UPLOAD_CONCURRENCY")
      ->check(positive);
  flag(cli, "--upload-rate", c.upload_rate, "Uploads per minute per user", "PARLEY_UPLOAD_RATE")
      ->check(positive);
  flag(cli, "--upload-burst", c.upload_burst, "Burst of uploads allowed above --upload-rate",
       "PARLEY_UPLOAD_BURST")
      ->check(CLI::Range(1.0, 10000.0));
  flag(cli, "--upload-unattached-ttl", c.upload_unattached_ttl,
       "Seconds an uploaded file waits to be attached to a message before it is removed",
       "PARLEY_UPLOAD_UNATTACHED_TTL")
      ->check(positive);
}

// Storage (docs/SECURITY.md "Storage"): the cap on the SQLite history.
void add_storage_options(CLI::App& cli, Config& c) {
  cli.add_option("--history-max-bytes", c.history_max_bytes,
                 "Cap on the history database (bytes, or 512MiB, 4GiB ...); past it the largest "
                 "rooms lose their oldest messages (0 = no cap)")
      ->envname("PARLEY_HISTORY_MAX_BYTES")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))
      ->capture_default_str();
}

// Store budgets (docs/SECURITY.md "Store budgets"): messages in flight to the SQLite history.
void add_store_budget_options(CLI::App& cli, Config& c) {
  cli.add_option("--store-pending-room-bytes", c.store_pending_room_bytes,
                 "Bytes of one room's messages waiting for the history store; past it sends "
                 "are refused (rate_limited) until it catches up (0 = no limit)")
      ->envname("PARLEY_STORE_PENDING_ROOM_BYTES")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cli.add_option("--store-pending-bytes", c.store_pending_bytes,
                 "Bytes of messages waiting for the history store, all rooms (0 = no limit)")
      ->envname("PARLEY_STORE_PENDING_BYTES")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
}

// Native TLS (docs/DEPLOY.md): the files are loaded by the server at start.
void add_tls_options(CLI::App& cli, Config& c) {
  flag(cli, "--tls-cert", c.tls_cert_file,
       "PEM certificate chain: --port speaks TLS (reloaded on SIGHUP)", "PARLEY_TLS_CERT");
  flag(cli, "--tls-key", c.tls_key_file, "PEM private key of --tls-cert", "PARLEY_TLS_KEY");
  flag(cli, "--plain-port", c.plain_port,
       "With TLS: also serve plain HTTP on this port (-1 = no, 0 picks a free one)",
       "PARLEY_PLAIN_PORT")
      ->check(CLI::Range(-1, 65535));
}

std::string check_tls_options(const Config& c) {
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return "--tls-cert and --tls-key go together";
  }
  if (!c.tls() && c.plain_port != -1) return "--plain-port needs --tls-cert and --tls-key";
  return {};
}

// Rules between flags; the message, or empty when the configuration holds.
std::string check_consistency(const Config& c) {
  if (c.soft_pending_output > c.max_pending_output) {
    return "--soft-pending-output must not exceed --max-pending-output";
  }
  if (c.idle_timeout <= c.ping_interval)
    return "--idle-timeout must be longer than --ping-interval";
  if (c.history_max_bytes != 0 && c.history_max_bytes < (uint64_t{1} << 20)) {
    return "--history-max-bytes must be 0 (no cap) or at least 1MiB";
  }
  return check_tls_options(c);
}

}  // namespace

ConfigResult parse_config(int argc, const char* const* argv) {
  Config c;
  CLI::App cli{"Parley: a real-time WebSocket chat server", "parley"};
  cli.set_version_flag("--version", PARLEY_VERSION);
  add_listening_options(cli, c);
  add_connection_limits(cli, c);
  add_chat_options(cli, c);
  add_identity_options(cli, c);
  add_deflate_options(cli, c);
  add_api_options(cli, c);
  EdgeLists edge_lists;
  add_edge_options(cli, c, edge_lists);
  add_upload_options(cli, c);
  add_redis_options(cli, c);
  add_storage_options(cli, c);
  add_store_budget_options(cli, c);
  add_tls_options(cli, c);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    std::ostringstream out, err;
    cli.exit(e, out, err);
    return {std::nullopt, 0, out.str()};
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    return {std::nullopt, 2, "parley: " + what + " (see --help)\n"};
  }
  if (std::string problem = check_consistency(c); !problem.empty()) {
    return {std::nullopt, 2, "parley: " + problem + "\n"};
  }
  if (auto error = check_identity_options(c)) return {std::nullopt, 2, *error};
  if (auto error = check_api_options(c)) return {std::nullopt, 2, *error};
  if (auto error = check_edge_options(c, edge_lists)) return {std::nullopt, 2, *error};
  if (auto error = check_redis_options(c)) return {std::nullopt, 2, *error};
  return {c, 0, {}};
}

}  // namespace parley::app
