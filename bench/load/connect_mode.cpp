// connect: how fast the server takes new WebSocket connections. --concurrency
// K slots each repeat connect -> upgrade -> close handshake -> TCP close for
// the whole run; a handshake counts when its 101 arrives in the window, and
// its latency runs from the connect() call to the validated 101.
//
// Closing with a Close frame, not a reset, makes the server close TCP first
// (RFC 6455 §7.1.1), so TIME_WAIT lands on the server's side and the bench's
// ephemeral ports are free again at once.
#include <cstdio>

#include "load/bench_worker.h"
#include "load/latency_histogram.h"
#include "load/modes.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

// A connect that fails at once (no free port, say) is retried this much later
// instead of spinning.
constexpr auto kRetryDelay = std::chrono::milliseconds(1);

class ConnectWorker final : public BenchWorker {
 public:
  ConnectWorker(const BenchOptions& o, const WsTarget& target, std::size_t index)
      : BenchWorker(o, target, index) {}

  void start_traffic(const Schedule& s) {
    loop_.post([this, s] {
      schedule_ = s;
      const std::size_t slots = local_share(options_.concurrency);
      clients_.resize(slots);
      active_slots_ = slots;
      if (slots == 0) done_.store(true, std::memory_order_relaxed);
      for (std::size_t slot = 0; slot < slots; ++slot) launch(slot);
    });
  }

  uint64_t live_handshakes() const { return live_handshakes_.load(std::memory_order_relaxed); }
  bool done() const { return done_.load(std::memory_order_relaxed); }
  uint64_t handshakes() const { return handshakes_; }
  uint64_t failures() const { return failures_; }
  const LatencyHistogram& latency() const { return latency_; }

 private:
  void launch(std::size_t slot) {
    if (now_ns() >= schedule_.measure_end_ns) {
      if (--active_slots_ == 0) done_.store(true, std::memory_order_relaxed);
      return;
    }
    const std::size_t source_number = attempts_++ * threads_ + index_;
    if (open_client(slot, static_cast<uint32_t>(slot), source_number) == nullptr) {
      if (schedule_.in_window(now_ns())) ++failures_;
      loop_.run_after(kRetryDelay, [this, slot] { launch(slot); });
    }
  }

  void on_open(WsClient& client) override {
    const int64_t now = now_ns();
    if (schedule_.in_window(now)) {
      ++handshakes_;
      latency_.record(now - client.connect_started_ns());
    }
    client.close();
  }

  void on_closed(WsClient& client, std::string_view why) override {
    if (!client.has_opened()) {
      note_error(why);
      if (schedule_.in_window(now_ns())) ++failures_;
    }
    const std::size_t slot = client.id();
    // Not now: the client is still on the stack that reported its close.
    loop_.defer([this, slot] {
      clients_[slot].reset();
      launch(slot);
    });
  }

  void publish() override { live_handshakes_.store(handshakes_, std::memory_order_relaxed); }

  Schedule schedule_;
  std::size_t active_slots_ = 0;
  uint64_t attempts_ = 0;
  uint64_t handshakes_ = 0, failures_ = 0;
  LatencyHistogram latency_;
  std::atomic<uint64_t> live_handshakes_{0};
  std::atomic<bool> done_{false};
};

}  // namespace

RunResult run_connect(const BenchOptions& o, const WsTarget& target) {
  auto workers = start_workers<ConnectWorker>(o, target);
  RunResult result;
  result.summary.text("mode", o.mode)
      .text("url", o.url)
      .count("concurrency", o.concurrency)
      .number("duration_s", o.duration)
      .number("warmup_s", o.warmup)
      .count("threads", o.threads);

  const Schedule schedule = Schedule::starting_now(o);
  for (auto& w : workers) w->start_traffic(schedule);
  CpuWindow cpu(o);
  measure_window(
      schedule, o, cpu, [&] { return sum_over(workers, &ConnectWorker::live_handshakes); },
      "handshakes");
  wait_for([&] { return all_workers(workers, &ConnectWorker::done); }, o.drain + 10);
  for (auto& w : workers) w->stop();

  uint64_t handshakes = 0, failures = 0;
  LatencyHistogram latency;
  std::string first_error;
  for (auto& w : workers) {
    handshakes += w->handshakes();
    failures += w->failures();
    latency.merge(w->latency());
    if (first_error.empty()) first_error = w->first_error();
  }
  result.summary.count("handshakes", handshakes)
      .count("failures", failures)
      .number("handshakes_per_s", static_cast<double>(handshakes) / o.duration);
  add_cpu_fields(result.summary, cpu, static_cast<double>(handshakes), "handshakes");
  if (auto server = cpu.server_seconds(); server && handshakes > 0) {
    result.summary.number("server_cpu_us_per_handshake", *server * 1e6 / handshakes);
  }
  result.summary.object("latency_us", latency_fields(latency));
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  result.ok = handshakes > 0;
  if (!result.ok) result.summary.text("error", "no handshake completed");
  return result;
}

}  // namespace parley::bench
