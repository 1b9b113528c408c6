// join: how fast the server answers a parley.v1 `join` that carries history.
//
// Prepare: one client, the keeper, says hello and joins the room (a new room
// per run unless --room). When the room's last_id is below --history-size H,
// the keeper sends the missing messages (paced to the server's rate limit
// from its welcome) and waits for their acks, so the room then holds H
// messages. The keeper's own join is timed as well (`keeper_join_us`): on a
// server just restarted on its data directory, with --room naming a room
// that already has its messages, it is the first join of that room and reads
// its history from SQLite.
//
// Joins: --concurrency K slots each repeat, until the window ends: connect ->
// `hello` -> `welcome` -> `join` (with `since` = last_id - N under --since N)
// -> `joined` -> close. The latency is from writing `join` to reading
// `joined`; `session_latency_us` runs from connect() to `joined`. A join
// counts when its `joined` arrives inside the window.
//
// Warm (default): the keeper stays in the room, so the room is live and the
// server answers from its in-memory cache of recent messages. --cold: the
// keeper leaves before the joins and every joiner closes once answered, so
// with K = 1 the room is empty between joins, the server drops its cache, and
// each join reads the store.
//
// Server CPU per join covers the whole session (TCP and WebSocket handshakes,
// hello, join, presence to the keeper, close): compare with the connect
// mode's CPU per handshake to see what the join itself costs.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>

#include "load/bench_worker.h"
#include "load/latency_histogram.h"
#include "load/modes.h"
#include "load/parley_v1.h"
#include "load/run_support.h"

namespace parley::bench {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kRetryDelay = std::chrono::milliseconds(1);
constexpr auto kStallTick = std::chrono::milliseconds(100);
// A join unanswered this long is given up (counted in `timeouts`).
constexpr int64_t kJoinTimeoutNs = 5'000'000'000;
constexpr uint32_t kKeeperId = std::numeric_limits<uint32_t>::max();
constexpr std::size_t kMaxErrorText = 300;

struct JoinTotals {
  uint64_t joins = 0;     // `joined` received in the window
  uint64_t failures = 0;  // connections refused or closed before `joined`, in the window
  uint64_t timeouts = 0;  // joins unanswered after kJoinTimeoutNs
  uint64_t errors = 0;    // `error` events to joiners
  std::size_t history_min = std::numeric_limits<std::size_t>::max();
  std::size_t history_max = 0;
  int64_t first_join_sent_ns = std::numeric_limits<int64_t>::max();  // the run's first join
  int64_t first_join_latency_ns = 0;

  void add(const JoinTotals& o) {
    joins += o.joins;
    failures += o.failures;
    timeouts += o.timeouts;
    errors += o.errors;
    history_min = std::min(history_min, o.history_min);
    history_max = std::max(history_max, o.history_max);
    if (o.first_join_sent_ns < first_join_sent_ns) {
      first_join_sent_ns = o.first_join_sent_ns;
      first_join_latency_ns = o.first_join_latency_ns;
    }
  }
};

// What the keeper found and did; read by the coordinator once `done`.
struct Preparation {
  std::atomic<bool> done{false};
  bool ok = false;
  std::string error;
  uint64_t last_id = 0;  // the room's newest id once prepared
  uint64_t found = 0;    // the room's last_id when the keeper joined
  uint64_t sent = 0;     // messages the keeper added
  int64_t join_ns = 0;   // the keeper's own join -> joined
  std::size_t join_history = 0;
  double seconds = 0;
};

class JoinWorker final : public BenchWorker {
 public:
  JoinWorker(const BenchOptions& o, const WsTarget& target, std::size_t index,
             const std::string& room)
      : BenchWorker(o, target, index), room_(room) {
    subprotocol_ = std::string(v1::kSubprotocol);
  }

  // Thread-safe. Fills `out` and sets out.done.
  void prepare(Preparation& out) {
    loop_.post([this, &out] {
      prep_ = &out;
      prep_started_ns_ = now_ns();
      keeper_ = std::make_unique<WsClient>(loop_, target_, *this, kKeeperId);
      keeper_->require_subprotocol(std::string(v1::kSubprotocol));
      if (std::string error = keeper_->connect(nullptr, kConnectTimeout); !error.empty()) {
        finish_prepare(false, error);
      }
    });
  }

  // Thread-safe: closes the keeper (--cold); keeper_gone() turns true.
  void dismiss_keeper() {
    loop_.post([this] {
      keeper_dismissed_ = true;
      if (keeper_ && keeper_->state() != WsClient::State::Closed) {
        keeper_->close();
      } else {
        keeper_gone_.store(true);
      }
    });
  }
  bool keeper_gone() const { return keeper_gone_.load(); }

  void start_traffic(const Schedule& s, std::optional<uint64_t> since) {
    loop_.post([this, s, since] {
      schedule_ = s;
      since_ = since;
      const std::size_t slots = local_share(options_.concurrency);
      clients_.resize(slots);
      join_sent_ns_.assign(slots, 0);
      active_slots_ = slots;
      if (slots == 0) done_.store(true, std::memory_order_relaxed);
      for (std::size_t slot = 0; slot < slots; ++slot) launch(slot);
      repeat(kStallTick, [this] {
        check_stalled();
        return !done_.load(std::memory_order_relaxed);
      });
    });
  }

  uint64_t live_joins() const { return live_joins_.load(std::memory_order_relaxed); }
  bool done() const { return done_.load(std::memory_order_relaxed); }

  // After stop().
  const JoinTotals& totals() const { return totals_; }
  const LatencyHistogram& latency() const { return latency_; }
  const LatencyHistogram& session_latency() const { return session_latency_; }
  const std::string& first_server_error() const { return first_server_error_; }

 private:
  // ---- the keeper ----

  void finish_prepare(bool ok, std::string error = {}) {
    if (prep_ == nullptr || prep_->done.load()) return;
    prep_->ok = ok;
    prep_->error = std::move(error);
    prep_->seconds = static_cast<double>(now_ns() - prep_started_ns_) / 1e9;
    prep_->done.store(true);
  }

  void keeper_text(std::string_view payload, int64_t received_ns) {
    switch (v1::event_type(payload)) {
      case v1::Event::Welcome:
        // Mirror the server's token bucket so that no send is rate-limited.
        rate_ = v1::number_field(payload, "rate_per_sec").value_or(1e12);
        burst_ = v1::number_field(payload, "rate_burst").value_or(1e12);
        tokens_ = burst_ - 2.5;  // hello and join took one each; half a token to spare
        tokens_at_ns_ = received_ns;
        break;
      case v1::Event::Joined: {
        if (prep_->done.load()) break;  // a resync, not ours
        prep_->join_ns = received_ns - keeper_join_sent_ns_;
        prep_->join_history = v1::history_length(payload);
        prep_->found = v1::integer_field(payload, "last_id", true).value_or(0);
        prep_->last_id = prep_->found;
        to_send_ = options_.history > prep_->found ? options_.history - prep_->found : 0;
        if (to_send_ == 0) {
          finish_prepare(true);
        } else {
          keeper_send_due();
        }
        break;
      }
      case v1::Event::Ack:
        prep_->last_id = std::max(prep_->last_id, v1::integer_field(payload, "msg_id").value_or(0));
        if (++acked_ == to_send_) {
          prep_->sent = acked_;
          finish_prepare(true);
        }
        break;
      case v1::Event::Error:
        finish_prepare(false, "server error while preparing: " +
                                  std::string(payload.substr(0, kMaxErrorText)));
        break;
      default:
        break;
    }
  }

  void keeper_send_due() {
    if (prep_->done.load() || !keeper_ || !keeper_->is_open()) return;
    const int64_t now = now_ns();
    // Refill a little slower than the server does: ours must never run ahead.
    const double refill = rate_ * 0.9;
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - tokens_at_ns_) / 1e9 * refill);
    tokens_at_ns_ = now;
    std::string text;
    const auto wall_ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    while (sent_ < to_send_ && tokens_ >= 1) {
      text = "history " + std::to_string(prep_->found + sent_ + 1) + " ";
      if (text.size() < options_.size) text.append(options_.size - text.size(), '.');
      v1::send(frame_, room_, wall_ms, sent_, text);
      keeper_->send_text(frame_);
      ++sent_;
      tokens_ -= 1;
    }
    if (sent_ < to_send_) {
      const double wait_s = (1 - tokens_) / refill;
      loop_.run_after(std::chrono::nanoseconds(static_cast<int64_t>(wait_s * 1e9) + 1),
                      [this] { keeper_send_due(); });
    }
  }

  // ---- the joiners ----

  void launch(std::size_t slot) {
    join_sent_ns_[slot] = 0;
    if (now_ns() >= schedule_.measure_end_ns) {
      if (--active_slots_ == 0) done_.store(true, std::memory_order_relaxed);
      return;
    }
    const std::size_t source_number = attempts_++ * threads_ + index_;
    if (open_client(slot, static_cast<uint32_t>(slot), source_number) == nullptr) {
      if (schedule_.in_window(now_ns())) ++totals_.failures;
      loop_.run_after(kRetryDelay, [this, slot] { launch(slot); });
    }
  }

  void on_open(WsClient& client) override {
    if (&client == keeper_.get()) {
      v1::hello(frame_, "keeper");
      client.send_text(frame_);
      v1::join(frame_, room_);
      keeper_join_sent_ns_ = now_ns();
      client.send_text(frame_);
      return;
    }
    v1::hello(frame_, "j" + std::to_string(global_number(client.id())));
    client.send_text(frame_);
  }

  void on_text(WsClient& client, std::string_view payload, int64_t received_ns) override {
    if (&client == keeper_.get()) {
      keeper_text(payload, received_ns);
      return;
    }
    const std::size_t slot = client.id();
    switch (v1::event_type(payload)) {
      case v1::Event::Welcome:
        v1::join(frame_, room_, since_);
        join_sent_ns_[slot] = now_ns();
        client.send_text(frame_);
        break;
      case v1::Event::Joined: {
        const int64_t sent = join_sent_ns_[slot];
        if (sent == 0) break;  // not an answer to our join
        join_sent_ns_[slot] = 0;
        if (sent < totals_.first_join_sent_ns) {
          totals_.first_join_sent_ns = sent;
          totals_.first_join_latency_ns = received_ns - sent;
        }
        if (schedule_.in_window(received_ns)) {
          ++totals_.joins;
          latency_.record(received_ns - sent);
          session_latency_.record(received_ns - client.connect_started_ns());
          const std::size_t history = v1::history_length(payload);
          totals_.history_min = std::min(totals_.history_min, history);
          totals_.history_max = std::max(totals_.history_max, history);
        }
        client.close();
        break;
      }
      case v1::Event::Error:
        ++totals_.errors;
        if (first_server_error_.empty()) {
          first_server_error_ = std::string(payload.substr(0, kMaxErrorText));
        }
        client.close();
        break;
      default:
        break;  // presence of other joiners
    }
  }

  void on_closed(WsClient& client, std::string_view why) override {
    if (&client == keeper_.get()) {
      if (!keeper_dismissed_) note_error("keeper: " + std::string(why));
      finish_prepare(false, "keeper closed: " + std::string(why));
      keeper_gone_.store(true);
      return;
    }
    const std::size_t slot = client.id();
    if (!client.has_opened() || join_sent_ns_[slot] != 0) {
      // Refused, or closed by the server before answering the join.
      note_error(why);
      if (schedule_.in_window(now_ns())) ++totals_.failures;
    }
    // Not now: the client is still on the stack that reported its close.
    loop_.defer([this, slot] {
      clients_[slot].reset();
      launch(slot);
    });
  }

  void check_stalled() {
    const int64_t now = now_ns();
    for (std::size_t slot = 0; slot < clients_.size(); ++slot) {
      if (join_sent_ns_[slot] != 0 && now - join_sent_ns_[slot] > kJoinTimeoutNs) {
        join_sent_ns_[slot] = 0;
        ++totals_.timeouts;
        note_error("join unanswered after 5 s");
        if (clients_[slot]) clients_[slot]->close();
      }
    }
  }

  void publish() override { live_joins_.store(totals_.joins, std::memory_order_relaxed); }

  const std::string& room_;
  std::string frame_;
  // Keeper.
  std::unique_ptr<WsClient> keeper_;
  Preparation* prep_ = nullptr;
  int64_t prep_started_ns_ = 0;
  int64_t keeper_join_sent_ns_ = 0;
  uint64_t to_send_ = 0, sent_ = 0, acked_ = 0;
  double rate_ = 0, burst_ = 0, tokens_ = 0;
  int64_t tokens_at_ns_ = 0;
  bool keeper_dismissed_ = false;
  std::atomic<bool> keeper_gone_{false};
  // Joiners.
  Schedule schedule_;
  std::optional<uint64_t> since_;
  std::vector<int64_t> join_sent_ns_;  // by slot; 0 = no join waiting
  std::size_t active_slots_ = 0;
  uint64_t attempts_ = 0;
  JoinTotals totals_;
  LatencyHistogram latency_, session_latency_;
  std::string first_server_error_;
  std::atomic<uint64_t> live_joins_{0};
  std::atomic<bool> done_{false};
};

}  // namespace

RunResult run_join(const BenchOptions& o, const WsTarget& target) {
  std::string room = o.room;
  if (room.empty()) {
    char name[16];
    std::snprintf(name, sizeof name, "pb-%08x", static_cast<uint32_t>(std::random_device{}()));
    room = name;
  }
  auto workers = start_workers<JoinWorker>(o, target, room);

  RunResult result;
  result.summary.text("mode", o.mode)
      .text("url", o.url)
      .text("room", room)
      .count("history_size", o.history)
      .flag("cold", o.cold);
  if (o.since_back >= 0) result.summary.count("since_back", static_cast<uint64_t>(o.since_back));
  result.summary.count("concurrency", o.concurrency)
      .number("duration_s", o.duration)
      .number("warmup_s", o.warmup)
      .count("threads", o.threads);

  Preparation prep;
  workers[0]->prepare(prep);
  wait_for([&] { return prep.done.load(); }, 30 + static_cast<double>(o.history) / 10.0,
           [&] { std::fprintf(stderr, "parley-bench: preparing %s\n", room.c_str()); });
  if (!prep.done.load() || !prep.ok) {
    for (auto& w : workers) w->stop();
    result.summary.text("error", "could not prepare the room: " +
                                     (prep.done.load() ? prep.error : std::string("timed out")));
    result.ok = false;
    return result;
  }
  result.summary.count("last_id", prep.last_id)
      .count("found_last_id", prep.found)
      .count("prepared_messages", prep.sent)
      .number("prepare_s", prep.seconds)
      .number("keeper_join_us", static_cast<double>(prep.join_ns) / 1e3)
      .count("keeper_join_history", prep.join_history);
  std::fprintf(stderr, "parley-bench: %s has last_id %llu (%llu sent); keeper joined in %.0f us\n",
               room.c_str(), static_cast<unsigned long long>(prep.last_id),
               static_cast<unsigned long long>(prep.sent), static_cast<double>(prep.join_ns) / 1e3);
  if (o.cold) {
    workers[0]->dismiss_keeper();
    wait_for([&] { return workers[0]->keeper_gone(); }, 5);
  }

  std::optional<uint64_t> since;
  if (o.since_back >= 0) {
    const auto back = static_cast<uint64_t>(o.since_back);
    since = prep.last_id > back ? prep.last_id - back : 0;
    result.summary.count("since", *since);
  }
  const Schedule schedule = Schedule::starting_now(o);
  for (auto& w : workers) w->start_traffic(schedule, since);
  CpuWindow cpu(o);
  measure_window(
      schedule, o, cpu, [&] { return sum_over(workers, &JoinWorker::live_joins); }, "joins");
  wait_for([&] { return all_workers(workers, &JoinWorker::done); }, o.drain + 10);
  for (auto& w : workers) w->stop();

  JoinTotals t;
  LatencyHistogram latency, session_latency;
  std::string first_error, first_server_error;
  for (auto& w : workers) {
    t.add(w->totals());
    latency.merge(w->latency());
    session_latency.merge(w->session_latency());
    if (first_error.empty()) first_error = w->first_error();
    if (first_server_error.empty()) first_server_error = w->first_server_error();
  }
  result.summary.count("joins", t.joins)
      .count("failures", t.failures)
      .count("timeouts", t.timeouts)
      .count("errors", t.errors)
      .number("joins_per_s", static_cast<double>(t.joins) / o.duration);
  add_cpu_fields(result.summary, cpu, static_cast<double>(t.joins), "joins");
  if (auto server = cpu.server_seconds(); server && t.joins > 0) {
    result.summary.number("server_cpu_us_per_join", *server * 1e6 / static_cast<double>(t.joins));
  }
  if (t.joins > 0) {
    result.summary.count("history_min", t.history_min).count("history_max", t.history_max);
  }
  if (t.first_join_sent_ns != std::numeric_limits<int64_t>::max()) {
    result.summary.number("first_join_us", static_cast<double>(t.first_join_latency_ns) / 1e3);
  }
  result.summary.object("latency_us", latency_fields(latency))
      .object("session_latency_us", latency_fields(session_latency));
  if (!first_error.empty()) result.summary.text("first_error", first_error);
  if (!first_server_error.empty()) result.summary.text("first_server_error", first_server_error);
  result.ok = t.joins > 0;
  if (!result.ok) result.summary.text("error", "no join was answered");
  return result;
}

}  // namespace parley::bench
