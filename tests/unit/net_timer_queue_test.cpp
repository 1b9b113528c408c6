#include "net/timer_queue.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace parley::net {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0{};

// Pops and runs every timer due at `now`.
void fire(TimerQueue& q, Clock::time_point now) {
  TimerQueue::Task task;
  while (q.pop_due(now, task)) task();
}

TEST(TimerQueue, FiresInDeadlineOrderAndTiesInInsertionOrder) {
  TimerQueue q;
  std::vector<int> order;
  const int due[] = {5, 1, 3, 1, 4};
  for (int label = 0; label < 5; ++label) {
    q.add(kT0 + milliseconds(due[label]), [&order, label] { order.push_back(label); });
  }
  EXPECT_EQ(q.next_due(), kT0 + milliseconds(1));
  fire(q, kT0 + milliseconds(10));
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 4, 0}));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, OnlyDueTimersFire) {
  TimerQueue q;
  int fired = 0;
  q.add(kT0 + milliseconds(5), [&] { ++fired; });
  q.add(kT0 + milliseconds(10), [&] { ++fired; });
  fire(q, kT0 + milliseconds(4));
  EXPECT_EQ(fired, 0);
  fire(q, kT0 + milliseconds(5));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(q.next_due(), kT0 + milliseconds(10));
}

TEST(TimerQueue, CancelledTimersNeverFireAndStaleIdsAreHarmless) {
  TimerQueue q;
  std::vector<int> fired;
  auto a = q.add(kT0 + milliseconds(1), [&] { fired.push_back(1); });
  auto b = q.add(kT0 + milliseconds(2), [&] { fired.push_back(2); });
  auto c = q.add(kT0 + milliseconds(3), [&] { fired.push_back(3); });
  q.cancel(b);
  q.cancel(b);  // twice: no-op
  q.cancel(0);  // "no timer"
  EXPECT_EQ(q.size(), 2u);
  fire(q, kT0 + milliseconds(1));
  q.cancel(a);  // already fired
  // The freed slots are reused; the old ids must not cancel the new timers.
  auto d = q.add(kT0 + milliseconds(4), [&] { fired.push_back(4); });
  q.add(kT0 + milliseconds(5), [&] { fired.push_back(5); });
  q.cancel(a);
  q.cancel(b);
  fire(q, kT0 + milliseconds(10));
  EXPECT_EQ(fired, (std::vector<int>{1, 3, 4, 5}));
  EXPECT_NE(d, a);
  EXPECT_NE(d, b);
  (void)c;
}

TEST(TimerQueue, ATaskMayCancelAndAddTimers) {
  TimerQueue q;
  std::vector<int> fired;
  TimerQueue::Id later = 0;
  q.add(kT0 + milliseconds(1), [&] {
    fired.push_back(1);
    q.cancel(later);
    q.add(kT0 + milliseconds(1), [&] { fired.push_back(3); });
  });
  later = q.add(kT0 + milliseconds(2), [&] { fired.push_back(2); });
  fire(q, kT0 + milliseconds(5));
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

// Against a simple model, with random adds and cancels: the heap keeps its
// order whatever is removed from its middle.
TEST(TimerQueue, RandomAddsAndCancelsMatchAModel) {
  std::mt19937 rng(42);
  TimerQueue q;
  struct Live {
    TimerQueue::Id id;
    int due;
    int label;
  };
  std::vector<Live> live;
  std::vector<int> fired;
  int label = 0;
  for (int round = 0; round < 20000; ++round) {
    if (live.empty() || rng() % 3 != 0) {
      int due = static_cast<int>(rng() % 1000);
      int l = label++;
      live.push_back({q.add(kT0 + milliseconds(due), [&fired, l] { fired.push_back(l); }), due, l});
    } else {
      std::size_t i = rng() % live.size();
      q.cancel(live[i].id);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  ASSERT_EQ(q.size(), live.size());
  std::stable_sort(live.begin(), live.end(), [](const Live& a, const Live& b) {
    return a.due < b.due || (a.due == b.due && a.label < b.label);
  });
  fire(q, kT0 + milliseconds(1000));
  ASSERT_EQ(fired.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i) EXPECT_EQ(fired[i], live[i].label) << i;
}

}  // namespace
}  // namespace parley::net
