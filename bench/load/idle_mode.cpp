// idle: how much memory the server spends on a connection that does nothing.
//
// The server's VmRSS is read before any client connects and again once all C
// are open and the server has gone quiet (join notices and their output
// buffers flushed), so the difference is what C idle connections keep. The
// connections are then held for --duration seconds; the Endpoint answers the
// server's pings, and any connection the server drops is reported.
#include <cstdio>
#include <thread>

#include "load/bench_worker.h"
#include "load/modes.h"
#include "load/process_stats.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

// The server counts as quiet when it used less than this much CPU over one
// probe period; it may stay busy for a while flushing join notices to a big room.
constexpr double kQuietCpuSeconds = 0.02;
constexpr double kQuietProbeSeconds = 0.5;
constexpr double kMaxQuietWaitSeconds = 30;

// Waits until `pid` is quiet; returns the seconds waited.
double wait_until_quiet(pid_t pid) {
  const int64_t started = now_ns();
  auto last = process_cpu_seconds(pid);
  wait_for(
      [&] {
        std::this_thread::sleep_for(std::chrono::duration<double>(kQuietProbeSeconds));
        auto now = process_cpu_seconds(pid);
        const bool quiet = !now || !last || *now - *last < kQuietCpuSeconds;
        last = now;
        return quiet;
      },
      kMaxQuietWaitSeconds);
  return static_cast<double>(now_ns() - started) / 1e9;
}

}  // namespace

RunResult run_idle(const BenchOptions& o, const WsTarget& target) {
  RunResult result;
  result.summary = summary_head(o);
  result.summary.number("duration_s", o.duration).number("connect_rate", o.connect_rate);
  // -1: unknown (no --pid, or the process cannot be read).
  const long rss_before = o.pid > 0 ? process_rss_bytes(o.pid).value_or(-1) : -1;
  const long bench_rss_before = self_rss_bytes();

  auto workers = start_workers<BenchWorker>(o, target);
  std::vector<BenchWorker*> base;
  for (auto& w : workers) base.push_back(w.get());
  const ConnectOutcome connected = connect_clients(base, o);
  result.summary.count("connected", connected.opened)
      .number("connect_s", connected.seconds)
      .number("connects_per_s", static_cast<double>(connected.opened) / connected.seconds);
  if (connected.opened == 0) {
    for (auto& w : workers) w->stop();
    result.summary.text("error", "no client connected: " + workers[0]->first_error());
    result.ok = false;
    return result;
  }

  if (o.pid > 0) {
    result.summary.number("quiet_wait_s", wait_until_quiet(o.pid));
    const long rss_after = process_rss_bytes(o.pid).value_or(-1);
    if (rss_before >= 0 && rss_after >= 0) {
      const double per_connection =
          static_cast<double>(rss_after - rss_before) / static_cast<double>(connected.opened);
      result.summary.count("server_rss_before_bytes", static_cast<uint64_t>(rss_before))
          .count("server_rss_after_bytes", static_cast<uint64_t>(rss_after))
          .number("server_rss_per_connection_bytes", per_connection);
    }
  }
  result.summary.number("bench_rss_per_connection_bytes",
                        static_cast<double>(self_rss_bytes() - bench_rss_before) /
                            static_cast<double>(connected.opened));

  std::fprintf(stderr, "parley-bench: holding %llu connections for %.1f s\n",
               static_cast<unsigned long long>(connected.opened), o.duration);
  CpuWindow cpu(o);
  cpu.begin();
  const int64_t hold_end = now_ns() + static_cast<int64_t>(o.duration * 1e9);
  sleep_until_ns(hold_end);
  cpu.end();
  for (auto& w : workers) w->stop();

  uint64_t lost = 0;
  std::string first_error;
  for (auto& w : workers) {
    lost += w->lost();
    if (first_error.empty()) first_error = w->first_error();
  }
  // CPU while holding: the cost of idle connections (pings, timers).
  if (auto server = cpu.server_seconds()) result.summary.number("server_cpu_s", *server);
  result.summary.number("bench_cpu_s", cpu.bench_seconds());
  result.summary.count("lost_connections", lost);
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  return result;
}

}  // namespace parley::bench
