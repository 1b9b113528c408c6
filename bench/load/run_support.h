// What the coordinator (the main thread) does the same way in every mode:
// the measuring schedule, sampling CPU time at its edges, waiting with
// progress on stderr, and the report fields every summary carries.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "load/bench_options.h"
#include "load/bench_worker.h"
#include "load/json_line.h"
#include "load/latency_histogram.h"

namespace parley::bench {

// Steady-clock instants of one run. Traffic starts at `start_ns`; only what is
// sent in [warm_end_ns, measure_end_ns) is measured; nothing is sent after
// measure_end_ns.
struct Schedule {
  int64_t start_ns = 0;
  int64_t warm_end_ns = 0;
  int64_t measure_end_ns = 0;

  static Schedule starting_now(const BenchOptions& o);
  bool in_window(int64_t ns) const { return ns >= warm_end_ns && ns < measure_end_ns; }
};

// Server and bench CPU seconds between two samples (the measured window).
// With several server processes (a cluster's nodes and its Redis), the
// server's CPU is the sum over all of them.
class CpuWindow {
 public:
  explicit CpuWindow(const BenchOptions& o) : pids_(o.pids) {}
  void begin();
  void end();
  // Seconds of server CPU, or nothing without --pid (or if one vanished).
  std::optional<double> server_seconds() const;
  // The same, per process, in --pid order.
  std::vector<double> each_server_seconds() const;
  std::size_t process_count() const { return pids_.size(); }
  double bench_seconds() const { return bench_end_ - bench_begin_; }

 private:
  std::vector<pid_t> pids_;
  std::vector<std::optional<double>> server_begin_, server_end_;
  double bench_begin_ = 0, bench_end_ = 0;
};

void sleep_until_ns(int64_t ns);

// Polls `done` every 10 ms until it is true or `timeout_s` passes; calls
// `progress` about once a second. Returns whether `done` became true.
bool wait_for(const std::function<bool()>& done, double timeout_s,
              const std::function<void()>& progress = {});

// Makes and starts options.threads workers of type W.
template <typename W, typename... Args>
std::vector<std::unique_ptr<W>> start_workers(const BenchOptions& o, const WsTarget& target,
                                              Args&... args) {
  std::vector<std::unique_ptr<W>> workers;
  for (std::size_t i = 0; i < o.threads; ++i) {
    workers.push_back(std::make_unique<W>(o, target, i, args...));
    workers.back()->start();
  }
  return workers;
}

// Sum of `counter` over the workers (their thread-safe live counters).
template <typename W, typename Of>
uint64_t sum_over(const std::vector<std::unique_ptr<W>>& workers, uint64_t (Of::*counter)() const) {
  uint64_t total = 0;
  for (const auto& w : workers) total += ((*w).*counter)();
  return total;
}

// Whether every worker says `done`.
template <typename W, typename Of>
bool all_workers(const std::vector<std::unique_ptr<W>>& workers, bool (Of::*done)() const) {
  for (const auto& w : workers) {
    if (!((*w).*done)()) return false;
  }
  return true;
}

// Sleeps through the warm-up, then waits out the measured window of
// `schedule` with `cpu` sampled at its edges, printing once a second how much
// `total()` grew, as "parley-bench: N <unit>/s".
void measure_window(const Schedule& schedule, const BenchOptions& o, CpuWindow& cpu,
                    const std::function<uint64_t()>& total, const char* unit);

struct ConnectOutcome {
  uint64_t opened = 0;
  uint64_t failed = 0;
  double seconds = 0;
};

// Opens options.clients connections over `workers` at --connect-rate and
// waits for every handshake to finish (or a generous timeout).
ConnectOutcome connect_clients(const std::vector<BenchWorker*>& workers, const BenchOptions& o);

// Fields every summary starts with.
JsonLine summary_head(const BenchOptions& o);
// Server and bench CPU fields; `work` is the mode's unit of work done in the
// window (deliveries, echoes, handshakes) for the per-CPU-second figure,
// reported as `<work_name>_per_server_cpu_s`.
void add_cpu_fields(JsonLine& line, const CpuWindow& cpu, double work,
                    const std::string& work_name);
JsonLine latency_fields(const LatencyHistogram& h);

}  // namespace parley::bench
