// ack: the chat product's write path end to end, over parley.v1.
//
// C clients say `hello` and `join` one room (a new room per run unless
// --room; with --rooms N, client n joins room "<room>-<n % N>", so that
// --rooms C measures the write path without fan-out); once all have their
// `joined`, the first S send `send`s with client ids "<wall ms hex>-<seq>"
// (the web client's format) and a MessageStamp padded to --size bytes as the
// text. Two latencies are recorded:
//  - ack: from writing a `send` to reading its `ack`. The server acknowledges
//    a message once it is stored, so with --history sqlite this is the
//    durable path: queue to the writer thread, group commit, back to the
//    room's loop, then the sender's loop;
//  - delivery: from the `send` to each other member's `message` event.
// Counting follows broadcast: a send belongs to the measurement when it was
// written inside the window, and its ack and deliveries count whenever they
// arrive before the drain ends. Every acknowledged message must reach every
// other member of its room, so expected deliveries = acked x (room members -
// 1), counting every client as a member (`joined` = `clients` says they are).
//
// Pacing as in broadcast: --rate R in total (sender g shifted by g/R), or
// with --rate 0 a window of --window unacknowledged sends per sender. The
// server's per-connection rate limit (welcome.limits.rate_per_sec) must allow
// the rate: run the server with --rate 1e9 --rate-burst 1e9. Its rejections
// arrive as `error` events, counted in `errors`.
//
// Events are recognised by substring (see parley_v1.h): the ack's id, the
// message's text; nothing else is parsed.
#include <algorithm>
#include <cstdio>
#include <random>

#include "load/latency_histogram.h"
#include "load/message_stamp.h"
#include "load/modes.h"
#include "load/paced_worker.h"
#include "load/parley_v1.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

constexpr std::size_t kMaxErrorText = 300;

uint64_t wall_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

struct AckTotals {
  uint64_t sent = 0;        // sends written in the window
  uint64_t acked = 0;       // acks of those
  uint64_t duplicates = 0;  // acks with "duplicate":true (never expected here)
  uint64_t stray_acks = 0;  // acks for an id not sent, or acked twice
  uint64_t errors = 0;      // `error` events, all clients, whole run
  uint64_t expected = 0;    // deliveries the acked sends of the window owe
  uint64_t received = 0;    // `message` deliveries of the window's sends
  uint64_t own_copies = 0;  // a sender got its own message as `message`
  uint64_t window_resets = 0;

  void add(const AckTotals& o) {
    sent += o.sent;
    acked += o.acked;
    duplicates += o.duplicates;
    stray_acks += o.stray_acks;
    errors += o.errors;
    expected += o.expected;
    received += o.received;
    own_copies += o.own_copies;
  }
};

class AckWorker final : public PacedWorker {
 public:
  AckWorker(const BenchOptions& o, const WsTarget& target, std::size_t index,
            const StampCodec& codec, const std::vector<std::string>& rooms)
      : PacedWorker(o, target, index), codec_(codec), rooms_(rooms) {
    subprotocol_ = std::string(v1::kSubprotocol);
  }

  // Thread-safe: traffic starts at s.start_ns and stops at s.measure_end_ns.
  void start_traffic(const Schedule& s) {
    loop_.post([this, s] { begin(s); });
  }

  uint64_t live_joined() const { return live_joined_.load(std::memory_order_relaxed); }
  uint64_t live_sent() const { return live_sent_.load(std::memory_order_relaxed); }
  uint64_t live_acked() const { return live_acked_.load(std::memory_order_relaxed); }
  uint64_t live_expected() const { return live_expected_.load(std::memory_order_relaxed); }
  uint64_t live_received() const { return live_received_.load(std::memory_order_relaxed); }

  // After stop().
  const AckTotals& totals() const { return totals_; }
  const LatencyHistogram& ack_latency() const { return ack_latency_; }
  const LatencyHistogram& delivery_latency() const { return delivery_latency_; }
  std::optional<double> server_rate() const { return server_rate_; }
  const std::string& first_server_error() const { return first_server_error_; }

 private:
  void on_open(WsClient& client) override {
    BenchWorker::on_open(client);
    // Requests are answered in order, so join need not wait for welcome.
    v1::hello(frame_, "b" + std::to_string(client.id()));
    client.send_text(frame_);
    v1::join(frame_, room_of(client.id()));
    client.send_text(frame_);
  }

  const std::string& room_of(std::size_t number) const { return rooms_[number % rooms_.size()]; }
  // Clients in the room of client `number`, all assumed joined.
  uint64_t members_with(std::size_t number) const {
    const std::size_t n = rooms_.size(), c = options_.clients;
    return c / n + (number % n < c % n ? 1 : 0);
  }

  void begin(const Schedule& s) {
    sent_ns_.resize(local_share(options_.senders));
    begin_sending(s);
  }

  // False when the sender is not open (nothing is sent or counted).
  bool send_message(std::size_t j, uint64_t seq, int64_t sent_ns) override {
    WsClient* client = clients_[j].get();
    if (client == nullptr || !client->is_open()) return false;
    codec_.encode(MessageStamp{client->id(), seq, sent_ns}, options_.size, text_);
    v1::send(frame_, room_of(client->id()), wall_ms(), seq, text_);
    client->send_text(frame_);
    sent_ns_[j].push_back(sent_ns);  // index == seq == the send's id
    if (schedule().in_window(sent_ns)) ++totals_.sent;
    return true;
  }

  void on_text(WsClient& client, std::string_view payload, int64_t received_ns) override {
    switch (v1::event_type(payload)) {
      case v1::Event::Message:
        on_message(client, payload, received_ns);
        break;
      case v1::Event::Ack:
        on_ack(client, payload, received_ns);
        break;
      case v1::Event::Joined:
        ++joined_;
        break;
      case v1::Event::Welcome:
        if (!server_rate_) server_rate_ = v1::number_field(payload, "rate_per_sec");
        break;
      case v1::Event::Error:
        ++totals_.errors;
        if (first_server_error_.empty()) {
          first_server_error_ = std::string(payload.substr(0, kMaxErrorText));
        }
        break;
      default:
        break;  // presence
    }
  }

  void on_ack(WsClient& client, std::string_view payload, int64_t received_ns) {
    const std::size_t number = client.id();
    const auto id = v1::ack_seq(payload);
    if (number >= options_.senders || !id) {
      ++totals_.stray_acks;
      return;
    }
    const std::size_t j = local_slot(number);
    if (j >= sent_ns_.size() || *id >= sent_ns_[j].size() || sent_ns_[j][*id] == 0) {
      ++totals_.stray_acks;
      return;
    }
    std::vector<int64_t>& sent = sent_ns_[j];
    const int64_t sent_ns = sent[*id];
    sent[*id] = 0;
    if (payload.find(R"("duplicate":true)") != std::string_view::npos) ++totals_.duplicates;
    if (schedule().in_window(sent_ns)) {
      ++totals_.acked;
      totals_.expected += members_with(number) - 1;
      ack_latency_.record(received_ns - sent_ns);
    }
    acknowledged(j, received_ns);
  }

  void on_message(WsClient& client, std::string_view payload, int64_t received_ns) {
    const auto text = v1::message_text(payload);
    if (!text) return;
    const auto stamp = codec_.decode(*text);
    if (!stamp) return;  // not this run's
    if (stamp->sender == client.id()) {
      ++totals_.own_copies;
      return;
    }
    if (schedule().in_window(stamp->send_ns)) {
      ++totals_.received;
      delivery_latency_.record(received_ns - stamp->send_ns);
    }
  }

  void publish() override {
    live_joined_.store(joined_, std::memory_order_relaxed);
    live_sent_.store(totals_.sent, std::memory_order_relaxed);
    live_acked_.store(totals_.acked, std::memory_order_relaxed);
    live_expected_.store(totals_.expected, std::memory_order_relaxed);
    live_received_.store(totals_.received, std::memory_order_relaxed);
  }

  const StampCodec& codec_;
  const std::vector<std::string>& rooms_;
  std::vector<std::vector<int64_t>> sent_ns_;  // by local sender, by id; 0 once acknowledged
  std::string frame_, text_;
  uint64_t joined_ = 0;
  AckTotals totals_;
  LatencyHistogram ack_latency_, delivery_latency_;
  std::optional<double> server_rate_;
  std::string first_server_error_;
  std::atomic<uint64_t> live_joined_{0};
  std::atomic<uint64_t> live_sent_{0};
  std::atomic<uint64_t> live_acked_{0};
  std::atomic<uint64_t> live_expected_{0};
  std::atomic<uint64_t> live_received_{0};
};

std::string run_room(const BenchOptions& o, uint32_t run_id) {
  if (!o.room.empty()) return o.room;
  char name[16];
  std::snprintf(name, sizeof name, "pb-%08x", run_id);
  return name;
}

}  // namespace

RunResult run_ack(const BenchOptions& o, const WsTarget& target) {
  const StampCodec codec(std::random_device{}());
  const std::string room = run_room(o, codec.run_id());
  std::vector<std::string> rooms;
  for (std::size_t k = 0; k < o.rooms; ++k) {
    rooms.push_back(o.rooms == 1 ? room : room + "-" + std::to_string(k));
  }
  auto workers = start_workers<AckWorker>(o, target, codec, rooms);
  std::vector<BenchWorker*> base;
  for (auto& w : workers) base.push_back(w.get());
  auto sum = [&](auto counter) { return sum_over(workers, counter); };
  auto fail = [&](RunResult& result, const std::string& why) {
    for (auto& w : workers) w->stop();
    const std::string& first = workers[0]->first_error();
    const std::string& server = workers[0]->first_server_error();
    result.summary.text("error", why + (first.empty() ? "" : ": " + first) +
                                     (server.empty() ? "" : "; server said " + server));
    result.ok = false;
    return result;
  };

  RunResult result;
  result.summary = summary_head(o);
  result.summary.count("senders", o.senders).count("size", o.size).number("rate", o.rate);
  if (o.rate == 0) result.summary.count("window", o.window);
  result.summary.number("duration_s", o.duration)
      .number("warmup_s", o.warmup)
      .count("threads", o.threads)
      .text("room", room)
      .count("rooms", o.rooms);

  const ConnectOutcome connected = connect_clients(base, o);
  result.summary.count("connected", connected.opened).number("connect_s", connected.seconds);
  if (connected.opened < 2) return fail(result, "fewer than 2 clients connected");
  const int64_t join_started = now_ns();
  wait_for([&] { return sum(&AckWorker::live_joined) >= connected.opened; },
           10 + static_cast<double>(connected.opened) / 1000,
           [&] {
             std::fprintf(stderr, "parley-bench: %llu/%llu joined\n",
                          static_cast<unsigned long long>(sum(&AckWorker::live_joined)),
                          static_cast<unsigned long long>(connected.opened));
           });
  const uint64_t members = sum(&AckWorker::live_joined);
  result.summary.count("joined", members)
      .number("join_s", static_cast<double>(now_ns() - join_started) / 1e9);
  if (members < 2) return fail(result, "fewer than 2 clients joined");

  const Schedule schedule = Schedule::starting_now(o);
  for (auto& w : workers) w->start_traffic(schedule);
  std::fprintf(stderr,
               "parley-bench: %llu members in %s; warming up %.1f s, then measuring %.1f s\n",
               static_cast<unsigned long long>(members), room.c_str(), o.warmup, o.duration);
  CpuWindow cpu(o);
  measure_window(
      schedule, o, cpu, [&] { return sum_over(workers, &AckWorker::live_acked); }, "acks");

  // Drain: every send of the window acknowledged and delivered, or time is up.
  const bool complete = wait_for(
      [&] {
        return all_workers(workers, &AckWorker::done_sending) &&
               sum(&AckWorker::live_acked) >= sum(&AckWorker::live_sent) &&
               sum(&AckWorker::live_received) >= sum(&AckWorker::live_expected);
      },
      o.drain);
  for (auto& w : workers) w->stop();

  AckTotals t;
  LatencyHistogram ack_latency, delivery_latency;
  uint64_t lost_connections = 0;
  std::optional<double> server_rate;
  std::string first_error, first_server_error;
  for (auto& w : workers) {
    t.add(w->totals());
    t.window_resets += w->window_resets();
    ack_latency.merge(w->ack_latency());
    delivery_latency.merge(w->delivery_latency());
    lost_connections += w->lost();
    if (!server_rate) server_rate = w->server_rate();
    if (first_error.empty()) first_error = w->first_error();
    if (first_server_error.empty()) first_server_error = w->first_server_error();
  }
  const uint64_t expected = t.expected;
  const uint64_t lost = expected > t.received ? expected - t.received : 0;
  if (server_rate) result.summary.number("server_rate_per_sec", *server_rate);
  result.summary.count("sent", t.sent)
      .count("acked", t.acked)
      .count("unacked", t.sent > t.acked ? t.sent - t.acked : 0)
      .count("errors", t.errors)
      .flag("drained", complete)
      .number("sends_per_s", static_cast<double>(t.sent) / o.duration)
      .number("acks_per_s", static_cast<double>(t.acked) / o.duration);
  add_cpu_fields(result.summary, cpu, static_cast<double>(t.acked), "acks");
  if (auto server = cpu.server_seconds(); server && t.acked > 0) {
    result.summary.number("server_cpu_us_per_ack", *server * 1e6 / static_cast<double>(t.acked));
  }
  result.summary.object("ack_latency_us", latency_fields(ack_latency))
      .count("expected", expected)
      .count("received", t.received)
      .count("loss", lost)
      .number("deliveries_per_s", static_cast<double>(t.received) / o.duration)
      .object("delivery_latency_us", latency_fields(delivery_latency))
      .count("lost_connections", lost_connections)
      .count("own_copies", t.own_copies)
      .count("duplicates", t.duplicates)
      .count("stray_acks", t.stray_acks);
  if (o.rate == 0) result.summary.count("window_resets", t.window_resets);
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  if (!first_server_error.empty()) result.summary.text("first_server_error", first_server_error);
  if (server_rate &&
      (o.rate == 0 ? *server_rate < 1e6 : *server_rate * static_cast<double>(o.senders) < o.rate)) {
    std::fprintf(stderr,
                 "parley-bench: warning: the server allows %g sends/s per connection; run it "
                 "with --rate 1e9 --rate-burst 1e9\n",
                 *server_rate);
  }
  result.ok = t.acked > 0;
  if (!result.ok) result.summary.text("error", "no send was acknowledged");
  return result;
}

}  // namespace parley::bench
