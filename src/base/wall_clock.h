// The wall clock as messages carry it: milliseconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace parley {

inline int64_t unix_time_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace parley
