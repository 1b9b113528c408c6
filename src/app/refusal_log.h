// Log lines about refused clients (rate limits, long texts, abuse closes),
// rate limited per loop so that a flood of refusals cannot flood the log:
// at most kBurst lines at once, then kPerSecond a second. A line that is
// not written is counted, and the next one written says how many were not
// (docs/SECURITY.md, "What is logged and counted"). One per event loop,
// touched only by its thread.
#pragma once

#include <cstdint>
#include <optional>

#include "chat/token_bucket.h"

namespace parley::app {

class RefusalLog {
 public:
  using Clock = chat::TokenBucket::Clock;
  static constexpr double kPerSecond = 5;
  static constexpr double kBurst = 20;

  // Whether to write a line now; if so, how many were skipped before it.
  std::optional<uint64_t> admit(Clock::time_point now) {
    if (!bucket_.take(now)) {
      ++skipped_;
      return std::nullopt;
    }
    const uint64_t skipped = skipped_;
    skipped_ = 0;
    return skipped;
  }

 private:
  chat::TokenBucket bucket_{kPerSecond, kBurst};
  uint64_t skipped_ = 0;
};

}  // namespace parley::app
