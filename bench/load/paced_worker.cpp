#include "load/paced_worker.h"

#include <algorithm>
#include <chrono>

#include "load/ws_client.h"

namespace parley::bench {
namespace {

constexpr auto kWindowTick = std::chrono::milliseconds(10);
constexpr int64_t kWindowStallNs = 1'000'000'000;

}  // namespace

void PacedWorker::begin_sending(const Schedule& schedule) {
  schedule_ = schedule;
  sending_ = true;
  senders_.resize(local_share(options_.senders));
  const double rate = options_.rate;
  for (std::size_t j = 0; j < senders_.size(); ++j) {
    senders_[j].offset_ns =
        rate > 0 ? static_cast<int64_t>(static_cast<double>(global_number(j)) * 1e9 / rate) : 0;
    senders_[j].last_ack_ns = schedule.start_ns;
  }
  if (rate > 0) {
    paced_tick();
    return;
  }
  for (std::size_t j = 0; j < senders_.size(); ++j) {
    while (senders_[j].in_flight < options_.window && send_one(j)) {
    }
  }
  repeat(kWindowTick, [this] { return window_tick(); });
}

void PacedWorker::acknowledged(std::size_t j, int64_t ns) {
  if (j >= senders_.size()) return;
  Sender& s = senders_[j];
  if (s.in_flight > 0) --s.in_flight;
  s.last_ack_ns = ns;
  if (options_.rate == 0 && sending_ && ns < schedule_.measure_end_ns) send_one(j);
}

// Sends what is due, then sleeps until the next send is.
void PacedWorker::paced_tick() {
  const int64_t now = now_ns();
  if (now >= schedule_.measure_end_ns) {
    finish_sending();
    return;
  }
  const double interval_ns = 1e9 * static_cast<double>(options_.senders) / options_.rate;
  int64_t next_due = schedule_.measure_end_ns;
  for (std::size_t j = 0; j < senders_.size(); ++j) {
    Sender& s = senders_[j];
    const int64_t first = schedule_.start_ns + s.offset_ns;
    // Message k of this sender is due at first + k * interval.
    const auto due_ns = [&](uint64_t k) {
      return first + static_cast<int64_t>(static_cast<double>(k) * interval_ns);
    };
    bool open = true;
    while (open && due_ns(s.seq) <= now) open = send_one(j);
    if (open) next_due = std::min(next_due, due_ns(s.seq));  // a closed sender is done
  }
  loop_.run_after(std::chrono::nanoseconds(std::max<int64_t>(next_due - now_ns(), 0)),
                  [this] { paced_tick(); });
}

bool PacedWorker::window_tick() {
  const int64_t now = now_ns();
  if (now >= schedule_.measure_end_ns) return finish_sending();
  for (std::size_t j = 0; j < senders_.size(); ++j) {
    Sender& s = senders_[j];
    if (s.in_flight > 0 && now - s.last_ack_ns > kWindowStallNs) {
      s.in_flight = 0;
      s.last_ack_ns = now;
      ++window_resets_;
      while (s.in_flight < options_.window && send_one(j)) {
      }
    }
  }
  return true;
}

bool PacedWorker::finish_sending() {
  sending_ = false;
  done_.store(true, std::memory_order_relaxed);
  return false;
}

bool PacedWorker::send_one(std::size_t j) {
  Sender& s = senders_[j];
  if (!send_message(j, s.seq, now_ns())) return false;
  ++s.seq;
  ++s.in_flight;
  return true;
}

}  // namespace parley::bench
