// The one clock of the network layer: monotonic, so deadlines survive a change
// of the wall-clock time.
#pragma once

#include <chrono>

namespace parley::net {

using Clock = std::chrono::steady_clock;

}  // namespace parley::net
