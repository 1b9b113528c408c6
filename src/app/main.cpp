// Parley's entry point: configuration, logging, signals, then the server.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "app/config.h"
#include "app/server.h"

int main(int argc, char** argv) {
  using namespace parley::app;
  ConfigResult parsed = parse_config(argc, argv);
  if (!parsed.config) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.output;
    return parsed.exit_code;
  }
  const Config& config = *parsed.config;

  auto logger = spdlog::stderr_color_mt("parley");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  // Before any thread exists, so every thread inherits the signal mask.
  install_signal_policy();
  Server server(config);
  if (parley::Status started = server.start(); !started) {
    std::cerr << "parley: " << started.error().message << "\n";
    return 1;
  }
  if (server.metrics_port() != 0) {  // before the line tests wait for
    std::printf("parley metrics on http://%s:%u/metrics\n", config.metrics_host.c_str(),
                static_cast<unsigned>(server.metrics_port()));
  }
  // Tests and scripts wait for this exact line (and read the port from it).
  bool v6 = config.host.find(':') != std::string::npos;
  std::printf("parley listening on %s://%s%s%s:%u\n", config.tls() ? "https" : "http",
              v6 ? "[" : "", config.host.c_str(), v6 ? "]" : "",
              static_cast<unsigned>(server.port()));
  if (server.plain_port() != 0) {
    std::printf("parley listening on http://%s%s%s:%u\n", v6 ? "[" : "", config.host.c_str(),
                v6 ? "]" : "", static_cast<unsigned>(server.plain_port()));
  }
  std::fflush(stdout);
  return server.run();
}
