// Rate limits of the backend API (docs/API.md, "Rate limits"), shared by
// every loop (an API client's connections land on any of them):
// - each key has a token bucket of --api-rate requests per second with a
//   burst of --api-burst;
// - each client address has a bucket for requests that fail authentication
//   (1 per second, 10 at once), so keys cannot be guessed at speed, and a
//   flood of bad keys costs a hash and a map lookup each.
// A refused request gets 429 with Retry-After: the whole seconds until the
// bucket holds a token again.
//
// One mutex over both maps: API traffic is a backend's, far below chat
// traffic, and the critical section is a hash lookup. Addresses are bounded
// (kMaxAddresses): when full, buckets that have refilled (they hold no
// memory of anything) are forgotten first, and if none has, the oldest half.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::app {

class ApiLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kFailureRate = 1;
  static constexpr double kFailureBurst = 10;
  static constexpr std::size_t kMaxAddresses = 10000;

  ApiLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // 0 when the request may go on; otherwise the seconds to wait (>= 1).
  long take_key(std::string_view key, Clock::time_point now);
  long take_failure(std::string_view address, Clock::time_point now);
  // Addresses with a bucket now (at most kMaxAddresses).
  std::size_t addresses() {
    std::lock_guard lock(mutex_);
    return addresses_.size();
  }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last{};
  };
  static long take(Bucket& b, double rate, double burst, Clock::time_point now);
  void make_room(Clock::time_point now);

  const double rate_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> keys_;
  std::unordered_map<std::string, Bucket> addresses_;
};

}  // namespace parley::app
