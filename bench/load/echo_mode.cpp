// echo: C clients of an echo endpoint (the server's /echo with --echo), each
// keeping --in-flight stamped messages outstanding: every echo that comes
// back is timed and replaced by a new message. Measures the server's
// per-message cost without fan-out: round trips/s and their latency.
#include <cstdio>
#include <random>

#include "load/bench_worker.h"
#include "load/latency_histogram.h"
#include "load/message_stamp.h"
#include "load/modes.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

constexpr auto kEndTick = std::chrono::milliseconds(10);

class EchoWorker final : public BenchWorker {
 public:
  EchoWorker(const BenchOptions& o, const WsTarget& target, std::size_t index,
             const StampCodec& codec)
      : BenchWorker(o, target, index), codec_(codec) {}

  void start_traffic(const Schedule& s) {
    loop_.post([this, s] {
      schedule_ = s;
      sending_ = true;
      seq_.assign(clients_.size(), 0);
      for (std::size_t slot = 0; slot < clients_.size(); ++slot) {
        for (std::size_t i = 0; i < options_.in_flight; ++i) send_one(slot);
      }
      repeat(kEndTick, [this] {
        if (now_ns() < schedule_.measure_end_ns) return true;
        sending_ = false;
        done_.store(true, std::memory_order_relaxed);
        return false;
      });
    });
  }

  uint64_t live_sent() const { return live_sent_.load(std::memory_order_relaxed); }
  uint64_t live_received() const { return live_received_.load(std::memory_order_relaxed); }
  bool done_sending() const { return done_.load(std::memory_order_relaxed); }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }
  uint64_t foreign() const { return foreign_; }
  const LatencyHistogram& latency() const { return latency_; }

 private:
  void send_one(std::size_t slot) {
    WsClient* client = clients_[slot].get();
    if (client == nullptr || !client->is_open()) return;
    const MessageStamp stamp{client->id(), seq_[slot]++, now_ns()};
    codec_.encode(stamp, options_.size, payload_);
    client->send_text(payload_);
    if (schedule_.in_window(stamp.send_ns)) ++sent_;
  }

  void on_text(WsClient& client, std::string_view payload, int64_t received_ns) override {
    const auto stamp = codec_.decode(payload);
    if (!stamp || stamp->sender != client.id()) {
      ++foreign_;  // an echo server answers only the sender
      return;
    }
    if (schedule_.in_window(stamp->send_ns)) {
      ++received_;
      latency_.record(received_ns - stamp->send_ns);
    }
    if (sending_ && received_ns < schedule_.measure_end_ns) send_one(local_slot(client.id()));
  }

  void publish() override {
    live_sent_.store(sent_, std::memory_order_relaxed);
    live_received_.store(received_, std::memory_order_relaxed);
  }

  const StampCodec& codec_;
  Schedule schedule_;
  bool sending_ = false;
  std::vector<uint64_t> seq_;  // by local slot
  std::string payload_;
  uint64_t sent_ = 0, received_ = 0, foreign_ = 0;
  LatencyHistogram latency_;
  std::atomic<uint64_t> live_sent_{0};
  std::atomic<uint64_t> live_received_{0};
  std::atomic<bool> done_{false};
};

}  // namespace

RunResult run_echo(const BenchOptions& o, const WsTarget& target) {
  const StampCodec codec(std::random_device{}());
  auto workers = start_workers<EchoWorker>(o, target, codec);
  std::vector<BenchWorker*> base;
  for (auto& w : workers) base.push_back(w.get());
  auto sum = [&](auto counter) { return sum_over(workers, counter); };

  RunResult result;
  result.summary = summary_head(o);
  result.summary.count("in_flight", o.in_flight)
      .count("size", o.size)
      .number("duration_s", o.duration)
      .number("warmup_s", o.warmup)
      .count("threads", o.threads);
  const ConnectOutcome connected = connect_clients(base, o);
  result.summary.count("connected", connected.opened).number("connect_s", connected.seconds);
  if (connected.opened == 0) {
    for (auto& w : workers) w->stop();
    result.summary.text("error", "no client connected: " + workers[0]->first_error());
    result.ok = false;
    return result;
  }

  const Schedule schedule = Schedule::starting_now(o);
  for (auto& w : workers) w->start_traffic(schedule);
  CpuWindow cpu(o);
  measure_window(
      schedule, o, cpu, [&] { return sum_over(workers, &EchoWorker::live_received); }, "echoes");
  const bool complete = wait_for(
      [&] {
        return all_workers(workers, &EchoWorker::done_sending) &&
               sum(&EchoWorker::live_received) >= sum(&EchoWorker::live_sent);
      },
      o.drain);
  for (auto& w : workers) w->stop();

  uint64_t sent = 0, received = 0, foreign = 0, lost_connections = 0;
  LatencyHistogram latency;
  std::string first_error;
  for (auto& w : workers) {
    sent += w->sent();
    received += w->received();
    foreign += w->foreign();
    lost_connections += w->lost();
    latency.merge(w->latency());
    if (first_error.empty()) first_error = w->first_error();
  }
  result.summary.count("sent", sent)
      .count("received", received)
      .count("loss", sent > received ? sent - received : 0)
      .flag("drained", complete)
      .number("echoes_per_s", static_cast<double>(received) / o.duration);
  add_cpu_fields(result.summary, cpu, static_cast<double>(received), "echoes");
  result.summary.object("latency_us", latency_fields(latency))
      .count("lost_connections", lost_connections)
      .count("foreign", foreign);
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  return result;
}

}  // namespace parley::bench
