#include "app/session.h"

#include <gtest/gtest.h>

#include <vector>

namespace parley::app {
namespace {

struct FakeSession : Session {
  int ticks = 0;
  void tick(net::Clock::time_point) override { ++ticks; }
  void shutdown() override {}
  void abort() override {}
};

TEST(SessionList, AddRemoveKeepsCount) {
  SessionList list;
  FakeSession a, b, c;
  list.add(&a);
  list.add(&b);
  list.add(&c);
  list.add(&b);  // adding twice is a no-op
  EXPECT_EQ(list.size(), 3u);
  list.remove(&b);
  list.remove(&b);
  EXPECT_EQ(list.size(), 2u);
  list.for_each([](Session& s) { s.tick({}); });
  EXPECT_EQ(a.ticks, 1);
  EXPECT_EQ(b.ticks, 0);
  EXPECT_EQ(c.ticks, 1);
}

TEST(SessionList, VisitorMayRemoveOtherSessions) {
  SessionList list;
  FakeSession a, b, c;
  list.add(&a);
  list.add(&b);
  list.add(&c);
  // A broadcast during one session's tick can drop another session: the walk
  // must still visit each session listed at the start exactly once.
  std::vector<Session*> seen;
  list.for_each([&](Session& s) {
    seen.push_back(&s);
    list.remove(&a);
    list.remove(&b);
  });
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(list.size(), 1u);
}

}  // namespace
}  // namespace parley::app
