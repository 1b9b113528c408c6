// A token bucket that several threads draw from at once, without a lock: the
// generic cell rate algorithm (GCRA, as in ATM's traffic policing, nginx's
// limit_req and redis-cell). Its whole state is one 64-bit "theoretical
// arrival time" (TAT) updated by compare-and-swap; it behaves exactly like a
// bucket of `burst` tokens refilled at `rate` per second:
//
//   take(now, n):  next = max(TAT, now) + n/rate
//                  refuse when next - now > burst/rate, else TAT = next
//
// A take may cost more than one token (n): a byte rate charges each message
// its size. A cost above `burst` can never be paid; the configuration keeps
// burst at least the largest message.
//
// Used for limits shared by the connections of one client address, which may
// live on different event loops (docs/SECURITY.md, "Rates per address"). A
// rate of 0 means no limit: take() always succeeds. The per-connection
// limits stay chat::TokenBucket (one owner, no atomics).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace parley {

class SharedRate {
 public:
  using Clock = std::chrono::steady_clock;

  // `burst` is at least 1 when `rate` > 0 (the configuration checks it).
  // `refusals`, when given, counts refused takes (for /metrics).
  SharedRate(double rate, double burst, std::atomic<uint64_t>* refusals = nullptr)
      : interval_ns_(rate > 0 ? std::max<int64_t>(1, static_cast<int64_t>(1e9 / rate)) : 0),
        tolerance_ns_(rate > 0 ? static_cast<int64_t>(burst * 1e9 / rate) : 0),
        refusals_(refusals) {}
  SharedRate(const SharedRate&) = delete;
  SharedRate& operator=(const SharedRate&) = delete;

  bool unlimited() const { return interval_ns_ == 0; }

  // Takes `cost` tokens at `now`; false (nothing taken) when fewer are left.
  bool take(Clock::time_point now, uint64_t cost = 1) {
    if (unlimited()) return true;
    const int64_t t = ns(now);
    // A cost beyond the burst can never be paid (and must not overflow).
    if (cost > static_cast<uint64_t>(tolerance_ns_ / interval_ns_) + 1) {
      if (refusals_ != nullptr) refusals_->fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const int64_t charge = static_cast<int64_t>(cost) * interval_ns_;
    int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t next = std::max(tat, t) + charge;
      if (next - t > tolerance_ns_) {
        if (refusals_ != nullptr) refusals_->fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
    }
  }

  // Seconds until take() would succeed (0 when it would now).
  double wait_seconds(Clock::time_point now) const {
    if (unlimited()) return 0;
    const int64_t t = ns(now);
    const int64_t next = std::max(tat_.load(std::memory_order_relaxed), t) + interval_ns_;
    return std::max<int64_t>(0, next - t - tolerance_ns_) / 1e9;
  }

  // Whether the bucket is full again at `now`: forgetting it loses nothing.
  bool full(Clock::time_point now) const { return tat_.load(std::memory_order_relaxed) <= ns(now); }

 private:
  static int64_t ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  const int64_t interval_ns_;
  const int64_t tolerance_ns_;
  std::atomic<uint64_t>* const refusals_;
  std::atomic<int64_t> tat_{0};
};

}  // namespace parley
