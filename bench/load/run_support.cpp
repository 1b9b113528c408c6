#include "load/run_support.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "load/process_stats.h"

namespace parley::bench {
namespace {

int64_t seconds_to_ns(double s) {
  return static_cast<int64_t>(std::llround(s * 1e9));
}

}  // namespace

Schedule Schedule::starting_now(const BenchOptions& o) {
  Schedule s;
  s.start_ns = now_ns();
  s.warm_end_ns = s.start_ns + seconds_to_ns(o.warmup);
  s.measure_end_ns = s.warm_end_ns + seconds_to_ns(o.duration);
  return s;
}

void CpuWindow::begin() {
  server_begin_.clear();
  for (pid_t pid : pids_) server_begin_.push_back(process_cpu_seconds(pid));
  bench_begin_ = self_cpu_seconds();
}

void CpuWindow::end() {
  server_end_.clear();
  for (pid_t pid : pids_) server_end_.push_back(process_cpu_seconds(pid));
  bench_end_ = self_cpu_seconds();
}

std::vector<double> CpuWindow::each_server_seconds() const {
  std::vector<double> each;
  if (server_begin_.size() != pids_.size() || server_end_.size() != pids_.size()) return each;
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    if (!server_begin_[i] || !server_end_[i]) return {};
    each.push_back(*server_end_[i] - *server_begin_[i]);
  }
  return each;
}

std::optional<double> CpuWindow::server_seconds() const {
  std::vector<double> each = each_server_seconds();
  if (each.empty()) return std::nullopt;
  double total = 0;
  for (double s : each) total += s;
  return total;
}

void sleep_until_ns(int64_t ns) {
  const int64_t left = ns - now_ns();
  if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
}

bool wait_for(const std::function<bool()>& done, double timeout_s,
              const std::function<void()>& progress) {
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  int64_t next_progress = now_ns() + 1'000'000'000;
  while (!done()) {
    const int64_t now = now_ns();
    if (now >= deadline) return false;
    if (progress && now >= next_progress) {
      progress();
      next_progress = now + 1'000'000'000;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

ConnectOutcome connect_clients(const std::vector<BenchWorker*>& workers, const BenchOptions& o) {
  const int64_t started = now_ns();
  for (BenchWorker* w : workers) w->open_clients(o.clients, o.connect_rate);
  auto sum = [&](uint64_t (BenchWorker::*f)() const) {
    uint64_t total = 0;
    for (BenchWorker* w : workers) total += (w->*f)();
    return total;
  };
  const double timeout = 15 + 2 * static_cast<double>(o.clients) / o.connect_rate;
  wait_for([&] { return sum(&BenchWorker::opened) + sum(&BenchWorker::failed) >= o.clients; },
           timeout,
           [&] {
             std::fprintf(stderr, "parley-bench: connecting: %llu/%zu open, %llu failed\n",
                          static_cast<unsigned long long>(sum(&BenchWorker::opened)), o.clients,
                          static_cast<unsigned long long>(sum(&BenchWorker::failed)));
           });
  ConnectOutcome out;
  out.opened = sum(&BenchWorker::opened);
  out.failed = o.clients - std::min<uint64_t>(out.opened, o.clients);
  out.seconds = static_cast<double>(now_ns() - started) / 1e9;
  std::fprintf(stderr, "parley-bench: %llu/%zu connections open after %.2f s\n",
               static_cast<unsigned long long>(out.opened), o.clients, out.seconds);
  return out;
}

JsonLine summary_head(const BenchOptions& o) {
  JsonLine line;
  line.text("mode", o.mode).text("url", o.url).count("clients", o.clients);
  if (o.deflate) line.flag("deflate", true);
  return line;
}

void add_cpu_fields(JsonLine& line, const CpuWindow& cpu, double work,
                    const std::string& work_name) {
  if (auto server = cpu.server_seconds()) {
    line.number("server_cpu_s", *server);
    // One figure per --pid, in its order (a cluster: each node, then Redis).
    if (cpu.process_count() > 1) line.numbers("server_cpu_s_each", cpu.each_server_seconds());
    line.number(work_name + "_per_server_cpu_s", *server > 0 ? work / *server : NAN);
  }
  line.number("bench_cpu_s", cpu.bench_seconds());
}

JsonLine latency_fields(const LatencyHistogram& h) {
  JsonLine l;
  l.count("samples", h.count())
      .number("mean", h.mean_us())
      .number("p50", h.percentile_us(0.50))
      .number("p90", h.percentile_us(0.90))
      .number("p99", h.percentile_us(0.99))
      .number("p999", h.percentile_us(0.999))
      .number("max", h.max_us());
  return l;
}

void measure_window(const Schedule& schedule, const BenchOptions& o, CpuWindow& cpu,
                    const std::function<uint64_t()>& total, const char* unit) {
  sleep_until_ns(schedule.warm_end_ns);
  cpu.begin();
  uint64_t last = total();
  wait_for([&] { return now_ns() >= schedule.measure_end_ns; }, o.duration + 1,
           [&] {
             const uint64_t now_total = total();
             std::fprintf(stderr, "parley-bench: %llu %s/s\n",
                          static_cast<unsigned long long>(now_total - last), unit);
             last = now_total;
           });
  cpu.end();
}

}  // namespace parley::bench
