#include "chat/recent_events.h"

#include <gtest/gtest.h>

#include <chrono>

namespace parley::chat {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

TEST(RecentEvents, CountsOnlyTheEventsWithinTheWindow) {
  RecentEvents<Clock::time_point> events;
  const Clock::time_point t0{};
  EXPECT_EQ(events.note(t0, seconds(10)), 1u);
  EXPECT_EQ(events.note(t0 + seconds(1), seconds(10)), 2u);
  EXPECT_EQ(events.note(t0 + seconds(10), seconds(10)), 3u);  // t0 is exactly 10 s old: kept
  EXPECT_EQ(events.note(t0 + seconds(11), seconds(10)), 3u);  // t0 drops out
  EXPECT_EQ(events.note(t0 + seconds(30), seconds(10)), 1u);  // all older ones drop out
}

TEST(RecentEvents, AnEmptyGuardHoldsNoMemoryOfItsOwn) {
  // What every idle connection's session pays: no allocation until an event.
  EXPECT_LE(sizeof(RecentEvents<Clock::time_point>), 3 * sizeof(void*));
}

}  // namespace
}  // namespace parley::chat
