// LazyDeque: a deque that holds no memory while empty (docs/BENCHMARKS.md,
// memory per connection: idle rooms keep two of them).
#include "base/lazy_deque.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace parley {
namespace {

TEST(LazyDeque, HoldsNothingUntilTheFirstElementAndNothingOnceEmptyAgain) {
  LazyDeque<std::string> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.allocated());
  EXPECT_EQ(q.begin(), q.end());  // an empty range, as for any empty container

  q.push_back("b");
  q.push_back("c");
  q.push_front("a");
  EXPECT_TRUE(q.allocated());
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.front(), "a");
  EXPECT_EQ(q.back(), "c");
  EXPECT_EQ(q[1], "b");
  EXPECT_EQ(std::vector<std::string>(q.begin(), q.end()),
            (std::vector<std::string>{"a", "b", "c"}));

  q.pop_front();
  q.pop_front();
  EXPECT_TRUE(q.allocated());
  q.pop_front();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.allocated());  // the last element took the deque with it

  q.push_back("again");
  q.clear();
  EXPECT_FALSE(q.allocated());
}

TEST(LazyDeque, AlgorithmsWorkOnTheEmptyAndTheFilledOne) {
  LazyDeque<int> q;
  const LazyDeque<int>& view = q;
  EXPECT_EQ(std::upper_bound(view.begin(), view.end(), 5), view.end());
  for (int i = 1; i <= 10; ++i) q.push_back(i);
  EXPECT_EQ(*std::upper_bound(view.begin(), view.end(), 5), 6);
  int sum = 0;
  for (int& v : q) sum += v;
  EXPECT_EQ(sum, 55);
}

}  // namespace
}  // namespace parley
