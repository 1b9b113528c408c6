// broadcast: C members of one room, the first S of them also senders.
//
// Every message carries its sender, sequence number and send time (see
// MessageStamp). A message counts when it was *sent* inside the measured
// window, wherever its deliveries land in time, so expected and received
// describe the same set of messages: expected = sent x (members - 1), or
// x members with --echo-to-sender; whatever has not arrived when the drain
// period ends is lost.
//
// Pacing: with --rate R each sender sends R/S per second on its own phase
// (sender g is offset by g/R seconds) so the room sees an even stream, not S
// messages at each tick. With --rate 0 each sender keeps --window messages in
// flight, and a message stops being in flight when one designated receiver
// on the sender's own loop has it: no cross-thread traffic, and the window
// follows the server's real fan-out speed instead of its input speed.
#include <algorithm>
#include <cstdio>
#include <random>

#include "load/latency_histogram.h"
#include "load/message_stamp.h"
#include "load/modes.h"
#include "load/paced_worker.h"
#include "load/process_stats.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

struct BroadcastTotals {
  uint64_t sent = 0;        // messages sent in the window
  uint64_t received = 0;    // deliveries of those
  uint64_t own_copies = 0;  // a sender got its own message without --echo-to-sender
  uint64_t window_resets = 0;

  void add(const BroadcastTotals& o) {
    sent += o.sent;
    received += o.received;
    own_copies += o.own_copies;
  }
};

class BroadcastWorker final : public PacedWorker {
 public:
  BroadcastWorker(const BenchOptions& o, const WsTarget& target, std::size_t index,
                  const StampCodec& codec)
      : PacedWorker(o, target, index), codec_(codec) {}

  // Thread-safe: traffic starts at s.start_ns and stops at s.measure_end_ns.
  void start_traffic(const Schedule& s) {
    loop_.post([this, s] { begin(s); });
  }

  uint64_t live_sent() const { return live_sent_.load(std::memory_order_relaxed); }
  uint64_t live_received() const { return live_received_.load(std::memory_order_relaxed); }

  // After stop().
  const BroadcastTotals& totals() const { return totals_; }
  const LatencyHistogram& latency() const { return latency_; }

 private:
  void begin(const Schedule& s) {
    // Window mode: the first open member of this loop that does not send
    // (or any member, if senders get their own copy) counts the acks.
    if (options_.rate == 0) {
      for (auto& c : clients_) {
        if (c && c->is_open() && (options_.echo_to_sender || c->id() >= options_.senders)) {
          ack_receiver_ = c.get();
          break;
        }
      }
    }
    begin_sending(s);
  }

  // False when the sender is not open (nothing is sent or counted).
  bool send_message(std::size_t j, uint64_t seq, int64_t sent_ns) override {
    WsClient* client = clients_[j].get();
    if (client == nullptr || !client->is_open()) return false;
    codec_.encode(MessageStamp{client->id(), seq, sent_ns}, options_.size, payload_);
    client->send_text(payload_);
    if (schedule().in_window(sent_ns)) ++totals_.sent;
    return true;
  }

  void on_text(WsClient& client, std::string_view payload, int64_t received_ns) override {
    const auto stamp = codec_.decode(payload);
    if (!stamp) return;  // join/leave notices, other runs' history
    if (stamp->sender == client.id() && !options_.echo_to_sender) {
      ++totals_.own_copies;
      return;
    }
    if (schedule().in_window(stamp->send_ns)) {
      ++totals_.received;
      latency_.record(received_ns - stamp->send_ns);
    }
    if (&client == ack_receiver_ && owns(stamp->sender)) {
      acknowledged(local_slot(stamp->sender), now_ns());
    }
  }

  void publish() override {
    live_sent_.store(totals_.sent, std::memory_order_relaxed);
    live_received_.store(totals_.received, std::memory_order_relaxed);
  }

  const StampCodec& codec_;
  WsClient* ack_receiver_ = nullptr;
  std::string payload_;
  BroadcastTotals totals_;
  LatencyHistogram latency_;
  std::atomic<uint64_t> live_sent_{0};
  std::atomic<uint64_t> live_received_{0};
};

uint32_t random_run_id() {
  return std::random_device{}();
}

}  // namespace

RunResult run_broadcast(const BenchOptions& o, const WsTarget& target) {
  const StampCodec codec(random_run_id());
  auto workers = start_workers<BroadcastWorker>(o, target, codec);
  std::vector<BenchWorker*> base;
  for (auto& w : workers) base.push_back(w.get());
  auto sum = [&](auto counter) { return sum_over(workers, counter); };

  RunResult result;
  result.summary = summary_head(o);
  result.summary.count("senders", o.senders)
      .count("size", o.size)
      .number("rate", o.rate)
      .flag("echo_to_sender", o.echo_to_sender);
  if (o.rate == 0) result.summary.count("window", o.window);
  result.summary.number("duration_s", o.duration)
      .number("warmup_s", o.warmup)
      .count("threads", o.threads);

  const ConnectOutcome connected = connect_clients(base, o);
  result.summary.count("connected", connected.opened).number("connect_s", connected.seconds);
  if (connected.opened < 2) {
    for (auto& w : workers) w->stop();
    const std::string why = workers[0]->first_error();
    result.summary.text("error",
                        "fewer than 2 clients connected" + (why.empty() ? "" : ": " + why));
    result.ok = false;
    return result;
  }
  const uint64_t members = connected.opened;
  const uint64_t copies_per_message = o.echo_to_sender ? members : members - 1;

  const Schedule schedule = Schedule::starting_now(o);
  for (auto& w : workers) w->start_traffic(schedule);
  std::fprintf(stderr, "parley-bench: warming up %.1f s, then measuring %.1f s\n", o.warmup,
               o.duration);
  CpuWindow cpu(o);
  measure_window(
      schedule, o, cpu, [&] { return sum_over(workers, &BroadcastWorker::live_received); },
      "deliveries");

  // Drain: wait until every message of the window has reached every member,
  // or the drain period is over.
  bool complete = wait_for(
      [&] {
        return all_workers(workers, &BroadcastWorker::done_sending) &&
               sum(&BroadcastWorker::live_received) >=
                   sum(&BroadcastWorker::live_sent) * copies_per_message;
      },
      o.drain);
  for (auto& w : workers) w->stop();

  BroadcastTotals t;
  LatencyHistogram latency;
  uint64_t lost_connections = 0;
  std::string first_error;
  for (auto& w : workers) {
    t.add(w->totals());
    t.window_resets += w->window_resets();
    latency.merge(w->latency());
    lost_connections += w->lost();
    if (first_error.empty()) first_error = w->first_error();
  }
  const uint64_t expected = t.sent * copies_per_message;
  const uint64_t lost = expected > t.received ? expected - t.received : 0;
  result.summary.count("sent", t.sent)
      .count("expected", expected)
      .count("received", t.received)
      .count("loss", lost)
      .number("loss_ratio", expected > 0 ? static_cast<double>(lost) / expected : 0)
      .flag("drained", complete)
      .number("msgs_per_s", static_cast<double>(t.sent) / o.duration)
      .number("deliveries_per_s", static_cast<double>(t.received) / o.duration);
  add_cpu_fields(result.summary, cpu, static_cast<double>(t.received), "deliveries");
  result.summary.object("latency_us", latency_fields(latency))
      .count("lost_connections", lost_connections)
      .count("own_copies", t.own_copies);
  if (o.rate == 0) result.summary.count("window_resets", t.window_resets);
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  return result;
}

}  // namespace parley::bench
