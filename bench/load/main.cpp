// parley-bench: the load generator. Runs one benchmark (see modes.h), prints
// progress on stderr and exactly one JSON summary line on stdout.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "load/bench_options.h"
#include "load/modes.h"
#include "load/ws_target.h"

namespace {

// Thousands of sockets need more than the usual soft limit of 1024 files.
void raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace parley::bench;
  const ParsedOptions parsed = parse_bench_options(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.output;
    return parsed.exit_code;
  }
  const BenchOptions& o = *parsed.options;
  auto target = parse_ws_url(o.url);
  if (auto* error = std::get_if<std::string>(&target)) {
    std::cerr << "parley-bench: " << *error << "\n";
    return 2;
  }
  // A server closing a connection we are writing to must be an error value, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_files_limit();
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (o.clients + 64 > limit.rlim_cur) {
    std::cerr << "parley-bench: --clients " << o.clients
              << " needs more open files than the limit (" << limit.rlim_cur << ")\n";
    return 2;
  }

  const WsTarget& t = std::get<WsTarget>(target);
  RunResult result;
  if (o.mode == "broadcast") {
    result = run_broadcast(o, t);
  } else if (o.mode == "echo") {
    result = run_echo(o, t);
  } else if (o.mode == "idle") {
    result = run_idle(o, t);
  } else if (o.mode == "ack") {
    result = run_ack(o, t);
  } else if (o.mode == "join") {
    result = run_join(o, t);
  } else {
    result = run_connect(o, t);
  }
  std::cout << result.summary.str() << std::endl;
  return result.ok ? 0 : 1;
}
