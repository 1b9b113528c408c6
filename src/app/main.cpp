// Parley's entry point: configuration, logging, signals, then the server.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
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

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::cerr << "parley: cannot create data directory '" << config.data_dir
              << "': " << ec.message() << "\n";
    return 1;
  }

  install_signal_policy();
  Server server(config);
  if (auto err = server.listen()) {
    std::cerr << "parley: " << *err << "\n";
    return 1;
  }
  // Tests and scripts wait for this exact line (and read the port from it).
  std::printf("parley listening on http://%s:%u\n",
              config.host.find(':') != std::string::npos ? ("[" + config.host + "]").c_str()
                                                         : config.host.c_str(),
              static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  return server.run();
}
