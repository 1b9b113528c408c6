// One epoll event loop: readiness callbacks, timers, a cross-thread task queue
// and a before-sleep hook list.
//
// Why this shape (after redis' ae.c): every connection lives on exactly one
// loop and is only touched from that loop's thread, so nothing on the data path
// needs a lock. Writes made while handling events are queued on the
// connection and flushed from the before-sleep hook, so all frames produced for
// one client during one iteration leave in one gathered write (corking). Other threads
// talk to a loop only through post(), which wakes it through an eventfd.
//
// Thread rule, checked in debug builds: everything but post() and stop() is
// called on the loop's thread (PARLEY_ASSERT_LOOP_THREAD). The loop's thread is
// the one that constructed it until run() starts; run() makes the calling
// thread the loop's, and adopt_thread() hands a stopped loop to another.
//
// Costs: an iteration is O(ready descriptors + due timers + posted and
// deferred tasks + corked connections). Posted tasks get a time budget per
// iteration (posted_budget(): as long as the sockets took, at least
// kPostedBudget): a burst of them (a store batch committing a hundred
// messages, each fanned out) is run over several iterations with the sockets
// served in between, in order, instead of holding every other client of the
// loop until the burst is done; and a fan-out is not cut into one message per
// iteration, which would cost one write per member per message. Timers are a heap (TimerQueue):
// O(log n) to add, cancel or fire.
#pragma once

#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/result.h"
#include "net/clock.h"
#include "net/timer_queue.h"

// Debug builds abort when a loop-owned object is touched from another thread.
#ifdef NDEBUG
#define PARLEY_ASSERT_LOOP_THREAD(loop) ((void)0)
#else
#define PARLEY_ASSERT_LOOP_THREAD(loop) \
  assert((loop).in_loop_thread() && "touched from a thread other than its loop's")
#endif

namespace parley::net {

// Receives readiness events for one file descriptor.
class IoHandler {
 public:
  virtual void on_io(uint32_t epoll_events) = 0;

 protected:
  ~IoHandler() = default;
};

// Something with output queued during this iteration (see EventLoop::cork).
class Corked {
 public:
  virtual void flush() = 0;

 protected:
  ~Corked() = default;
};

class EventLoop {
 public:
  using Task = std::function<void()>;
  // How long one iteration may spend on posted tasks before it serves the
  // sockets again (see "Costs" above).
  // At least this; more when the sockets took longer (posted_budget()).
  static constexpr Clock::duration kPostedBudget = std::chrono::milliseconds(1);
  // The posted-task budget of an iteration whose sockets (the corked flush,
  // then the ready descriptors) took `io`: as long, and at least
  // kPostedBudget, so posted work (a room's fan-out) gets at least half of a
  // busy iteration and a burst still leaves room for the sockets.
  static Clock::duration posted_budget(Clock::duration io);
  using TimerId = TimerQueue::Id;

  // Throws std::system_error when the kernel refuses an epoll or eventfd
  // descriptor: start-up cannot continue without one.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registration. `events` are EPOLL* flags; the handler must outlive its
  // registration. add() fails when the kernel is out of memory or watches
  // (the caller drops that one connection); modify() fails only on a bug.
  Status add(int fd, uint32_t events, IoHandler* handler);
  Status modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs until stop() (again after a stop); the calling thread becomes the
  // loop's thread.
  void run();
  // Thread-safe.
  void stop();
  // After run() returned and its thread was joined: the calling thread
  // becomes the loop's thread (to close what is left and free it).
  void adopt_thread() { thread_id_ = std::this_thread::get_id(); }
  // After run() returned: runs what is still deferred or posted (freeing the
  // objects those tasks own), without waiting for events.
  void run_pending();
  // Runs `task` on the loop's thread soon. Thread-safe.
  void post(Task task);

  // One-shot timer on the loop's thread. Cancelled timers never fire; a
  // cancelled or fired id may be cancelled again harmlessly.
  TimerId run_after(Clock::duration delay, Task task);
  void cancel(TimerId id);

  // Runs `task` on the loop's thread after the current batch of events. Used
  // to destroy connections: an event later in the same batch may still point
  // at them.
  void defer(Task task) {
    PARLEY_ASSERT_LOOP_THREAD(*this);
    deferred_.push_back(std::move(task));
  }

  // Corking: `c` has output queued; its flush() runs once before the loop
  // next sleeps, so all writes of this iteration leave together. uncork()
  // must be called if `c` is destroyed before that (O(corked), rare).
  void cork(Corked* c) {
    PARLEY_ASSERT_LOOP_THREAD(*this);
    corked_.push_back(c);
  }
  void uncork(Corked* c) {
    PARLEY_ASSERT_LOOP_THREAD(*this);
    std::erase(corked_, c);
  }

  // Called once per iteration right before the loop waits for events; this is
  // where corked output gets flushed. Must be registered before run().
  void add_before_sleep(Task hook);

  // Time at the start of the current iteration (cheap, avoids a syscall per use).
  Clock::time_point now() const { return now_; }

  // True on the loop's own thread: objects owned by the loop assert it.
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  int wait_timeout_ms() const;
  void run_due_timers();
  // Runs posted tasks in order: all of them (`budget` zero), or until one
  // ends after `budget` has passed; the rest wait in ready_ for the next
  // iteration, which then does not sleep.
  void drain_posted(Clock::duration budget);
  void run_deferred();
  void flush_corked();
  void dispatch(void* tag, uint32_t events);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  std::thread::id thread_id_;
  Clock::time_point now_;

  TimerQueue timers_;
  std::vector<Task> before_sleep_;
  std::vector<Task> deferred_;
  std::vector<Corked*> corked_;

  std::mutex posted_mutex_;
  std::vector<Task> posted_;
  // Posted tasks taken from posted_ and not run yet (loop thread only).
  std::deque<Task> ready_;
};

}  // namespace parley::net
