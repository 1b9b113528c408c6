// The sending half of the modes whose senders pace themselves (ack,
// broadcast).
//
// With --rate R each of the S senders sends R/S per second on its own phase
// (sender g is offset by g/R seconds) so the server sees an even stream, not S
// messages at each tick: one wake-up per message at low rates (not a fixed
// 1 kHz tick, which costs more CPU than the traffic), a batch per loop
// iteration at high ones. With --rate 0 each sender keeps --window messages in
// flight; a window whose acks stopped (a lost message, say) is reopened after
// a second instead of stalling its sender for the rest of the run.
//
// The mode says how one message goes out (send_message) and calls
// acknowledged() when one stops being in flight; everything else is here.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "load/bench_worker.h"
#include "load/run_support.h"

namespace parley::bench {

class PacedWorker : public BenchWorker {
 public:
  using BenchWorker::BenchWorker;

  // Thread-safe: the measured window is over and nothing more is sent.
  bool done_sending() const { return done_.load(std::memory_order_relaxed); }
  // Windows reopened after a stall, after stop().
  uint64_t window_resets() const { return window_resets_; }

 protected:
  struct Sender {
    uint64_t seq = 0;  // the next message's sequence number
    std::size_t in_flight = 0;
    int64_t last_ack_ns = 0;
    int64_t offset_ns = 0;  // rate mode: this sender's phase
  };

  // On the loop thread: sender j is local client slot j; starts sending for
  // the run `schedule`.
  void begin_sending(const Schedule& schedule);

  // Sends message `seq` of sender j (local client slot j), sent at `sent_ns`;
  // false when the client is not open (nothing is sent or counted).
  virtual bool send_message(std::size_t j, uint64_t seq, int64_t sent_ns) = 0;

  // Message of sender j stopped being in flight at `ns`; in window mode the
  // sender sends its next one.
  void acknowledged(std::size_t j, int64_t ns);

  bool sending() const { return sending_; }
  const Schedule& schedule() const { return schedule_; }
  std::size_t sender_count() const { return senders_.size(); }

 private:
  void paced_tick();
  bool window_tick();
  bool finish_sending();  // false, so that a repeat() tick stops
  bool send_one(std::size_t j);

  Schedule schedule_;
  bool sending_ = false;
  std::vector<Sender> senders_;
  uint64_t window_resets_ = 0;
  std::atomic<bool> done_{false};
};

}  // namespace parley::bench
