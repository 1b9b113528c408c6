// A connection's budget of inflated bytes per second (--inflate-rate,
// docs/SECURITY.md "Message bytes and inflation"): a token bucket that may go
// into debt, because the WebSocket layer stops only between payload pieces
// and a piece may inflate up to the message limit. While the budget is not
// positive the connection's input waits (ws::Endpoint::set_inflate_allowance
// stops the feed; the WebSocketPhase holds the rest of the read and stops
// reading); the debt is paid back before it reads again, so over time a
// connection inflates at most the rate, plus one message.
//
// The burst is a quarter of a second's worth (one sweep of the loop): what
// one read may inflate at once, so that a read full of small "zip bombs"
// holds its loop for at most that long.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "net/clock.h"

namespace parley::app {

class InflateBudget {
 public:
  // `rate` bytes per second; 0: no limit.
  explicit InflateBudget(uint64_t rate)
      : rate_(static_cast<double>(rate)),
        burst_(std::max(rate_ / 4, 64.0 * 1024)),
        tokens_(burst_) {}

  bool unlimited() const { return rate_ == 0; }

  // Bytes that may be inflated now (0 while in debt).
  uint64_t available(net::Clock::time_point now) {
    refill(now);
    return tokens_ > 0 ? static_cast<uint64_t>(tokens_) : 0;
  }
  // `bytes` were inflated (possibly more than available()).
  void spend(uint64_t bytes) { tokens_ -= static_cast<double>(bytes); }

 private:
  void refill(net::Clock::time_point now) {
    if (last_ != net::Clock::time_point{}) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  net::Clock::time_point last_{};
};

}  // namespace parley::app
