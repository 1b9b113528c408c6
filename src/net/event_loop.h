// One epoll event loop: readiness callbacks, timers, a cross-thread task queue
// and a before-sleep hook list.
//
// Why this shape (after redis' ae.c): every connection lives on exactly one
// loop and is only touched from that loop's thread, so nothing on the data path
// needs a lock. Writes made while handling events are queued on the
// connection and flushed from the before-sleep hook, so all frames produced for
// one client during one iteration leave in one writev (corking). Other threads
// talk to a loop only through post(), which wakes it through an eventfd.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace parley::net {

using Clock = std::chrono::steady_clock;

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
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registration. `events` are EPOLL* flags; the handler must outlive its registration.
  void add(int fd, uint32_t events, IoHandler* handler);
  void modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs until stop(); the calling thread becomes the loop's thread.
  void run();
  // Thread-safe.
  void stop();
  // After run() returned: runs what is still deferred or posted (freeing the
  // objects those tasks own), without waiting for events.
  void run_pending();
  // Runs `task` on the loop's thread soon. Thread-safe.
  void post(Task task);

  // One-shot timer on the loop's thread. Cancelled timers never fire.
  TimerId run_after(Clock::duration delay, Task task);
  void cancel(TimerId id);

  // Runs `task` on the loop's thread after the current batch of events. Used
  // to destroy connections: an event later in the same batch may still point
  // at them. Loop thread only.
  void defer(Task task) { deferred_.push_back(std::move(task)); }

  // Corking: `c` has output queued; its flush() runs once before the loop
  // next sleeps, so all writes of this iteration leave together. uncork()
  // must be called if `c` is destroyed before that. Loop thread only.
  void cork(Corked* c) { corked_.push_back(c); }
  void uncork(Corked* c) { std::erase(corked_, c); }

  // Called once per iteration right before the loop waits for events; this is
  // where corked output gets flushed. Must be registered before run().
  void add_before_sleep(Task hook);

  // Time at the start of the current iteration (cheap, avoids a syscall per use).
  Clock::time_point now() const { return now_; }

  // True on the loop's own thread: objects owned by the loop assert it.
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  struct Timer {
    Clock::time_point due;
    TimerId id;
    bool operator>(const Timer& o) const { return due > o.due || (due == o.due && id > o.id); }
  };

  int wait_timeout_ms() const;
  void run_due_timers();
  void drain_posted();
  void run_deferred();
  void flush_corked();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  std::thread::id thread_id_;
  Clock::time_point now_;

  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timer_heap_;
  std::vector<std::pair<TimerId, Task>> timer_tasks_;  // small: a handful of timers per loop
  TimerId next_timer_id_ = 1;

  std::vector<Task> before_sleep_;
  std::vector<Task> deferred_;
  std::vector<Corked*> corked_;

  std::mutex posted_mutex_;
  std::vector<Task> posted_;
};

}  // namespace parley::net
