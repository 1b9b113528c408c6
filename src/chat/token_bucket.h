// Rate limit: `rate` tokens per second, at most `burst` saved up. A take may
// cost several tokens (a byte rate charges a message its size); a rate of 0
// means no limit.
#pragma once

#include <algorithm>
#include <chrono>

namespace parley::chat {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  bool take(Clock::time_point now, double cost = 1.0) {
    if (rate_ <= 0) return true;
    if (last_ != Clock::time_point{}) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    last_ = now;
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace parley::chat
