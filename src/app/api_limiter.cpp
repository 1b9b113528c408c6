#include "app/api_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace parley::app {

long ApiLimiter::take(Bucket& b, double rate, double burst, Clock::time_point now) {
  if (b.last == Clock::time_point{}) {
    b.tokens = burst;
  } else {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst, b.tokens + std::max(0.0, elapsed) * rate);
  }
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1L, static_cast<long>(std::ceil((1.0 - b.tokens) / rate)));
}

long ApiLimiter::take_key(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  // Keys are the operator's: a handful, never evicted.
  auto [it, _] = keys_.try_emplace(std::string(key));
  return take(it->second, rate_, burst_, now);
}

long ApiLimiter::take_failure(std::string_view address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = addresses_.find(std::string(address));
  if (it == addresses_.end()) {
    if (addresses_.size() >= kMaxAddresses) make_room(now);
    it = addresses_.emplace(std::string(address), Bucket{}).first;
  }
  return take(it->second, kFailureRate, kFailureBurst, now);
}

void ApiLimiter::make_room(Clock::time_point now) {
  // A bucket idle long enough to have refilled is the same as no bucket.
  const auto refill = std::chrono::duration<double>(kFailureBurst / kFailureRate);
  std::erase_if(addresses_, [&](const auto& entry) { return now - entry.second.last >= refill; });
  if (addresses_.size() < kMaxAddresses) return;
  std::vector<Clock::time_point> times;
  times.reserve(addresses_.size());
  for (const auto& [_, b] : addresses_) times.push_back(b.last);
  auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), middle, times.end());
  const Clock::time_point cut = *middle;
  std::erase_if(addresses_, [&](const auto& entry) { return entry.second.last <= cut; });
}

}  // namespace parley::app
