#include "app/config.h"

#include <CLI/CLI.hpp>
#include <map>
#include <sstream>

#include "app/api_keys.h"
#include "auth/jwt_verifier.h"

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

// Rules between flags; the message, or empty when the configuration holds.
std::string check_consistency(const Config& c) {
  if (c.soft_pending_output > c.max_pending_output) {
    return "--soft-pending-output must not exceed --max-pending-output";
  }
  if (c.idle_timeout <= c.ping_interval)
    return "--idle-timeout must be longer than --ping-interval";
  return {};
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
  return {c, 0, {}};
}

}  // namespace parley::app
