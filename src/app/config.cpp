#include "app/config.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "app/redis_engine.h"
#include "auth/jwt_verifier.h"
#include "store/redis/url.h"

namespace parley::app {
namespace {

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

}  // namespace

ConfigResult parse_config(int argc, const char* const* argv) {
  Config c;
  CLI::App cli{"Parley: a real-time WebSocket chat server", "parley"};
  cli.set_version_flag("--version", PARLEY_VERSION);
  auto positive = CLI::PositiveNumber;

  cli.add_option("--host", c.host, "Address to listen on")
      ->envname("PARLEY_HOST")
      ->capture_default_str();
  cli.add_option("--port", c.port, "TCP port (0 picks a free one)")
      ->envname("PARLEY_PORT")
      ->capture_default_str();
  cli.add_flag("--echo", c.echo, "Enable the /echo endpoint (conformance tests)")
      ->envname("PARLEY_ECHO");
  cli.add_option("--max-message-size", c.max_message_size, "Largest message accepted, in bytes")
      ->envname("PARLEY_MAX_MESSAGE_SIZE")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--max-pending-output", c.max_pending_output,
                 "Bytes queued for one client before it is dropped")
      ->envname("PARLEY_MAX_PENDING_OUTPUT")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--soft-pending-output", c.soft_pending_output,
                 "Bytes queued for one client tolerated for --slow-consumer-seconds")
      ->envname("PARLEY_SOFT_PENDING_OUTPUT")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--slow-consumer-seconds", c.slow_consumer_seconds,
                 "Seconds a client may stay above --soft-pending-output")
      ->envname("PARLEY_SLOW_CONSUMER_SECONDS")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--handshake-timeout", c.handshake_timeout, "Seconds to complete the HTTP request")
      ->envname("PARLEY_HANDSHAKE_TIMEOUT")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--ping-interval", c.ping_interval, "Seconds of silence before a ping")
      ->envname("PARLEY_PING_INTERVAL")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--idle-timeout", c.idle_timeout, "Seconds of silence before closing")
      ->envname("PARLEY_IDLE_TIMEOUT")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--shutdown-timeout", c.shutdown_timeout, "Seconds to close clients on SIGTERM")
      ->envname("PARLEY_SHUTDOWN_TIMEOUT")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--log-level", c.log_level, "trace, debug, info, warn, error or off")
      ->envname("PARLEY_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cli.add_option("--data-dir", c.data_dir, "Folder for the server's data")
      ->envname("PARLEY_DATA_DIR")
      ->capture_default_str();

  cli.add_option("--threads", c.threads, "Event loops (0 = one per core)")
      ->envname("PARLEY_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cli.add_option("--history", c.history, "Chat history: sqlite (durable) or off (memory only)")
      ->envname("PARLEY_HISTORY")
      ->check(CLI::IsMember({"sqlite", "off"}))
      ->capture_default_str();
  cli.add_option("--history-retain", c.history_retain, "Messages kept per room (0 = all)")
      ->envname("PARLEY_HISTORY_RETAIN")
      ->capture_default_str();
  cli.add_option("--history-retain-days", c.history_retain_days,
                 "Days messages are kept (0 = forever)")
      ->envname("PARLEY_HISTORY_RETAIN_DAYS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli.add_option("--sync", c.sync, "normal (survives a crash) or full (survives power loss)")
      ->envname("PARLEY_SYNC")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  cli.add_option("--join-history", c.join_history, "Messages sent to a client on join")
      ->envname("PARLEY_JOIN_HISTORY")
      ->check(CLI::Range(0, 200))
      ->capture_default_str();
  cli.add_option("--cache-bytes", c.cache_bytes,
                 "Bytes of recent messages cached in memory across all rooms (0 = no limit)")
      ->envname("PARLEY_CACHE_BYTES")
      ->capture_default_str();
  cli.add_option("--cache-room-bytes", c.cache_room_bytes,
                 "Bytes of recent messages cached per room (0 = no limit)")
      ->envname("PARLEY_CACHE_ROOM_BYTES")
      ->capture_default_str();
  cli.add_option("--max-rooms", c.max_rooms, "Rooms open at once across the server (0 = no limit)")
      ->envname("PARLEY_MAX_ROOMS")
      ->capture_default_str();
  cli.add_option("--presence-batch-above", c.presence_batch_above,
                 "Connections in a room from which presence is coalesced (0 = never)")
      ->envname("PARLEY_PRESENCE_BATCH_ABOVE")
      ->capture_default_str();
  cli.add_option("--max-text-bytes", c.max_text_bytes, "Longest chat message text, in bytes")
      ->envname("PARLEY_MAX_TEXT_BYTES")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--rate", c.rate_per_sec, "Chat messages per connection per second")
      ->envname("PARLEY_RATE")
      ->check(positive)
      ->capture_default_str();
  cli.add_option("--rate-burst", c.rate_burst, "Burst of chat messages allowed above --rate")
      ->envname("PARLEY_RATE_BURST")
      ->check(positive)
      ->capture_default_str();

  add_identity_options(cli, c);
  add_redis_options(cli, c);

  // permessage-deflate (RFC 7692).
  cli.add_option("--deflate", c.deflate,
                 "Compression when the client offers it: on (once per broadcast), takeover "
                 "(a context per connection) or off")
      ->envname("PARLEY_DEFLATE")
      ->check(CLI::IsMember({"on", "takeover", "off"}))
      ->capture_default_str();
  cli.add_option("--deflate-threshold", c.deflate_threshold,
                 "Messages shorter than this many bytes are sent uncompressed")
      ->envname("PARLEY_DEFLATE_THRESHOLD")
      ->capture_default_str();

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
  if (c.soft_pending_output > c.max_pending_output) {
    return {std::nullopt, 2,
            "parley: --soft-pending-output must not exceed --max-pending-output\n"};
  }
  if (c.idle_timeout <= c.ping_interval) {
    return {std::nullopt, 2, "parley: --idle-timeout must be longer than --ping-interval\n"};
  }
  if (auto error = check_identity_options(c)) return {std::nullopt, 2, *error};
  if (auto error = check_redis_options(c)) return {std::nullopt, 2, *error};
  return {c, 0, {}};
}

}  // namespace parley::app
