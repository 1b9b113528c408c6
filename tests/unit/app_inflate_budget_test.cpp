// A connection's inflate budget (app/inflate_budget.h): a quarter of a
// second's worth at once, refilled at the rate, and a debt paid back first.
#include "app/inflate_budget.h"

#include <gtest/gtest.h>

namespace parley::app {
namespace {

using namespace std::chrono_literals;
const net::Clock::time_point t0 = net::Clock::time_point(100s);

TEST(InflateBudget, AQuarterSecondAtOnceThenTheRate) {
  InflateBudget b(4 << 20);
  EXPECT_EQ(b.available(t0), 1u << 20);
  b.spend(1 << 20);
  EXPECT_EQ(b.available(t0), 0u);
  EXPECT_EQ(b.available(t0 + 125ms), 512u << 10);
  EXPECT_EQ(b.available(t0 + 10s), 1u << 20);  // never more than the burst
}

TEST(InflateBudget, ADebtIsPaidBackBeforeMoreIsAllowed) {
  InflateBudget b(1 << 20);                 // burst 256 KiB
  b.spend(b.available(t0) + (1 << 20));     // one message past the budget
  EXPECT_EQ(b.available(t0 + 500ms), 0u);   // still 512 KiB in debt
  EXPECT_EQ(b.available(t0 + 1000ms), 0u);  // paid back, nothing saved yet
  EXPECT_EQ(b.available(t0 + 1250ms), 256u << 10);
}

TEST(InflateBudget, ZeroMeansNoLimit) {
  EXPECT_TRUE(InflateBudget(0).unlimited());
  EXPECT_FALSE(InflateBudget(1).unlimited());
}

}  // namespace
}  // namespace parley::app
