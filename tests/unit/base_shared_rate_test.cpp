// The lock-free token bucket (base/shared_rate.h): a burst, then the rate,
// shared exactly by several threads.
#include "base/shared_rate.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace parley {
namespace {

using namespace std::chrono_literals;
const SharedRate::Clock::time_point t0 = SharedRate::Clock::time_point(100s);

int takes(SharedRate& r, SharedRate::Clock::time_point now, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += r.take(now) ? 1 : 0;
  return n;
}

TEST(SharedRate, ABurstThenTheRate) {
  SharedRate r(10, 5);
  EXPECT_TRUE(r.full(t0));
  EXPECT_EQ(takes(r, t0, 100), 5);
  EXPECT_FALSE(r.full(t0));
  EXPECT_EQ(takes(r, t0 + 100ms, 100), 1);
  EXPECT_EQ(takes(r, t0 + 350ms, 100), 2);  // 250 ms: two and a half tokens
  EXPECT_EQ(takes(r, t0 + 400ms, 100), 1);  // the half and another half
  EXPECT_EQ(takes(r, t0 + 10s, 100), 5);    // never more than the burst saved up
}

TEST(SharedRate, ATakeMayCostSeveralTokensAsAByteRateDoes) {
  SharedRate r(1000, 4000);  // bytes: 1000 a second, 4000 at once
  EXPECT_TRUE(r.take(t0, 4000));
  EXPECT_FALSE(r.take(t0, 1));
  EXPECT_FALSE(r.take(t0 + 1s, 1001));  // a refused take takes nothing
  EXPECT_TRUE(r.take(t0 + 1s, 1000));
  EXPECT_TRUE(r.take(t0 + 10s, 3000));
  EXPECT_TRUE(r.take(t0 + 10s, 1000));
  // More than the burst can never pass, and must not overflow.
  EXPECT_FALSE(r.take(t0 + 100s, 4001));
  EXPECT_FALSE(r.take(t0 + 100s, UINT64_MAX));
  EXPECT_TRUE(r.take(t0 + 100s, 4000));
}

TEST(SharedRate, AVeryHighRateIsStillALimit) {
  SharedRate r(4e9, 8e9);  // faster than a nanosecond per token
  EXPECT_FALSE(r.unlimited());
}

TEST(SharedRate, TellsHowLongToWaitAndWhenItIsFullAgain) {
  SharedRate r(4, 2);
  EXPECT_EQ(r.wait_seconds(t0), 0);
  EXPECT_EQ(takes(r, t0, 2), 2);
  EXPECT_NEAR(r.wait_seconds(t0), 0.25, 1e-6);
  EXPECT_FALSE(r.full(t0 + 250ms));
  EXPECT_TRUE(r.full(t0 + 500ms));
}

TEST(SharedRate, ZeroRateMeansNoLimit) {
  SharedRate r(0, 1);
  EXPECT_TRUE(r.unlimited());
  EXPECT_EQ(takes(r, t0, 10000), 10000);
  EXPECT_EQ(r.wait_seconds(t0), 0);
}

TEST(SharedRate, CountsRefusals) {
  std::atomic<uint64_t> refused{0};
  SharedRate r(1, 3, &refused);
  EXPECT_EQ(takes(r, t0, 10), 3);
  EXPECT_EQ(refused.load(), 7u);
}

TEST(SharedRate, ThreadsTakeExactlyTheBurstBetweenThem) {
  // Four threads at one instant: exactly `burst` takes succeed in all.
  SharedRate r(1, 1000);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { taken += takes(r, t0, 1000); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1000);
}

}  // namespace
}  // namespace parley
