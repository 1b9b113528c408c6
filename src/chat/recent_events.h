// Abuse guard: how many events (invalid requests, dropped floods) a client
// caused within a sliding window. Allocates nothing until the first event, so
// an idle connection pays 24 bytes for it (a std::deque allocated ~600 bytes
// up front, a quarter of an idle chat connection's memory). The caller closes
// the client once the count passes its limit, which bounds the vector.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace parley::chat {

template <class TimePoint>
class RecentEvents {
 public:
  // Records an event at `now`; returns how many happened within `window`
  // before and including it.
  template <class Duration>
  std::size_t note(TimePoint now, Duration window) {
    std::erase_if(times_, [&](TimePoint t) { return now - t > window; });
    times_.push_back(now);
    return times_.size();
  }

 private:
  std::vector<TimePoint> times_;  // oldest first
};

}  // namespace parley::chat
