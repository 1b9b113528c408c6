#include "app/config.h"

#include <CLI/CLI.hpp>
#include <sstream>

namespace parley::app {

ConfigResult parse_config(int argc, const char* const* argv) {
  Config c;
  CLI::App cli{"Parley: a real-time WebSocket chat server", "parley"};
  cli.set_version_flag("--version", PARLEY_VERSION);
  auto positive = CLI::PositiveNumber;

  cli.add_option("--host", c.host, "Address to listen on")->envname("PARLEY_HOST")
      ->capture_default_str();
  cli.add_option("--port", c.port, "TCP port (0 picks a free one)")->envname("PARLEY_PORT")
      ->capture_default_str();
  cli.add_flag("--echo", c.echo, "Enable the /echo endpoint (conformance tests)")
      ->envname("PARLEY_ECHO");
  cli.add_option("--max-message-size", c.max_message_size, "Largest message accepted, in bytes")
      ->envname("PARLEY_MAX_MESSAGE_SIZE")->check(positive)->capture_default_str();
  cli.add_option("--max-pending-output", c.max_pending_output,
                 "Bytes queued for one client before it is dropped")
      ->envname("PARLEY_MAX_PENDING_OUTPUT")->check(positive)->capture_default_str();
  cli.add_option("--handshake-timeout", c.handshake_timeout, "Seconds to complete the HTTP request")
      ->envname("PARLEY_HANDSHAKE_TIMEOUT")->check(positive)->capture_default_str();
  cli.add_option("--ping-interval", c.ping_interval, "Seconds of silence before a ping")
      ->envname("PARLEY_PING_INTERVAL")->check(positive)->capture_default_str();
  cli.add_option("--idle-timeout", c.idle_timeout, "Seconds of silence before closing")
      ->envname("PARLEY_IDLE_TIMEOUT")->check(positive)->capture_default_str();
  cli.add_option("--shutdown-timeout", c.shutdown_timeout, "Seconds to close clients on SIGTERM")
      ->envname("PARLEY_SHUTDOWN_TIMEOUT")->check(positive)->capture_default_str();
  cli.add_option("--log-level", c.log_level, "trace, debug, info, warn, error or off")
      ->envname("PARLEY_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cli.add_option("--data-dir", c.data_dir, "Folder for the server's data")
      ->envname("PARLEY_DATA_DIR")->capture_default_str();

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
  if (c.idle_timeout <= c.ping_interval) {
    return {std::nullopt, 2, "parley: --idle-timeout must be longer than --ping-interval\n"};
  }
  return {c, 0, {}};
}

}  // namespace parley::app
