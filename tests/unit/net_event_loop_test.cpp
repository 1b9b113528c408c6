#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace parley::net {
namespace {

using std::chrono::milliseconds;

// Runs `loop` on its own thread; stops and joins on destruction.
class Running {
 public:
  explicit Running(EventLoop& loop) : loop_(loop), thread_([&loop] { loop.run(); }) {}
  ~Running() {
    loop_.stop();
    thread_.join();
  }

 private:
  EventLoop& loop_;
  std::thread thread_;
};

TEST(EventLoop, TimersFireInOrderOnTheLoopThread) {
  EventLoop loop;
  std::vector<int> fired;
  std::thread::id fired_on;
  loop.run_after(milliseconds(20), [&] { fired.push_back(2); });
  loop.run_after(milliseconds(1), [&] {
    fired.push_back(1);
    fired_on = std::this_thread::get_id();
  });
  loop.run_after(milliseconds(30), [&] { loop.stop(); });
  std::thread t([&] { loop.run(); });
  std::thread::id loop_thread = t.get_id();
  t.join();
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_EQ(fired_on, loop_thread);
}

TEST(EventLoop, CancelledTimerNeverFires) {
  EventLoop loop;
  bool fired = false;
  auto id = loop.run_after(milliseconds(5), [&] { fired = true; });
  loop.run_after(milliseconds(1), [&] { loop.cancel(id); });
  loop.run_after(milliseconds(20), [&] { loop.stop(); });
  loop.run();
  EXPECT_FALSE(fired);
  loop.cancel(id);  // after the fact: harmless
}

TEST(EventLoop, DeferredTasksRunAfterTheCurrentTaskAndMayDeferMore) {
  EventLoop loop;
  std::vector<int> order;
  loop.run_after(milliseconds(0), [&] {
    loop.defer([&] {
      order.push_back(2);
      loop.defer([&] { order.push_back(3); });
    });
    order.push_back(1);
  });
  loop.run_after(milliseconds(5), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, PostsFromManyThreadsAllRunInOrderPerThread) {
  EventLoop loop;
  constexpr int kThreads = 4;
  constexpr int kPosts = 2000;
  std::vector<std::vector<int>> seen(kThreads);  // touched only on the loop thread
  std::atomic<int> done{0};
  {
    Running running(loop);
    std::vector<std::thread> posters;
    for (int t = 0; t < kThreads; ++t) {
      posters.emplace_back([&, t] {
        for (int i = 0; i < kPosts; ++i) {
          loop.post([&, t, i] {
            EXPECT_TRUE(loop.in_loop_thread());
            seen[t].push_back(i);
            ++done;
          });
        }
      });
    }
    for (auto& p : posters) p.join();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (done.load() < kThreads * kPosts && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }  // stop + join: `seen` is ours again
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), std::size_t{kPosts});
    for (int i = 0; i < kPosts; ++i) EXPECT_EQ(seen[t][i], i);
  }
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop;
  std::thread t([&] { loop.run(); });
  loop.stop();
  t.join();  // would hang if the wake-up were lost
  SUCCEED();
}

struct CountingCork final : Corked {
  int flushes = 0;
  void flush() override { ++flushes; }
};

TEST(EventLoop, CorkedOutputIsFlushedOnceBeforeTheLoopSleeps) {
  EventLoop loop;
  CountingCork a, b;
  std::vector<std::string> events;
  loop.add_before_sleep([&] { events.push_back("hook"); });
  loop.run_after(milliseconds(0), [&] {
    loop.cork(&a);
    loop.cork(&b);
    loop.uncork(&b);  // destroyed before the flush: must not be called
  });
  loop.run_after(milliseconds(10), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(a.flushes, 1);
  EXPECT_EQ(b.flushes, 0);
  EXPECT_FALSE(events.empty());
}

// Records how many posted tasks had run when its descriptor became readable.
struct ReadableProbe final : IoHandler {
  EventLoop* loop = nullptr;
  int fd = -1;
  const int* done = nullptr;
  int done_at_io = -1;
  void on_io(uint32_t) override {
    done_at_io = *done;
    loop->remove(fd);
  }
};

// A burst of posted work (a store batch completing a hundred messages) must
// not hold a ready socket until all of it is done: after kPostedBudget the
// loop serves its descriptors, then goes on with the rest, in order.
TEST(EventLoop, ABurstOfPostedTasksLetsReadySocketsIn) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int done = 0;
  ReadableProbe probe;
  probe.loop = &loop;
  probe.fd = fds[0];
  probe.done = &done;
  constexpr int kTasks = 200;
  std::vector<int> order;
  for (int i = 0; i < kTasks; ++i) {
    loop.post([&, i] {
      if (i == 0) {
        ASSERT_EQ(write(fds[1], "x", 1), 1);  // readable once the burst runs
      }
      // 100 µs of work each: 20 ms in all, far over the budget.
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
      while (std::chrono::steady_clock::now() < until) {
      }
      order.push_back(i);
      ++done;
    });
  }
  loop.post([&] { loop.stop(); });
  ASSERT_TRUE(loop.add(fds[0], EPOLLIN, &probe));
  loop.run();
  EXPECT_GE(probe.done_at_io, 0) << "the readable pipe was never served";
  EXPECT_LT(probe.done_at_io, kTasks) << "the pipe waited for the whole burst";
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(order[i], i);
  close(fds[0]);
  close(fds[1]);
}

// The budget grows with the iteration's socket work: a saturated room's
// fan-out (posted) must not be cut into one message per flush of its members'
// sockets, which costs one write per member per message.
TEST(EventLoop, PostedWorkGetsAsLongAsTheSocketsTook) {
  using std::chrono::microseconds;
  EXPECT_EQ(EventLoop::posted_budget(Clock::duration::zero()), EventLoop::kPostedBudget);
  EXPECT_EQ(EventLoop::posted_budget(microseconds(300)), EventLoop::kPostedBudget);
  EXPECT_EQ(EventLoop::posted_budget(milliseconds(14)), milliseconds(14));
}

TEST(EventLoop, RunPendingFreesWhatIsLeftAfterRun) {
  EventLoop loop;
  int ran = 0;
  loop.post([&] { ++ran; });
  loop.defer([&] { ++ran; });
  loop.run_pending();
  EXPECT_EQ(ran, 2);
}

#ifndef NDEBUG
TEST(EventLoopDeathTest, LoopOwnedCallsFromAnotherThreadAbortInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        EventLoop loop;
        std::thread([&] { loop.run_after(milliseconds(1), [] {}); }).join();
      },
      "touched from a thread other than its loop's");
}
#endif

}  // namespace
}  // namespace parley::net
