// What the chat needs from one event loop: post a task to it (from any
// thread), run a task on it later, and tell whether the caller is on it. The
// app implements it over net::EventLoop; tests over in-memory queues. So the
// chat never includes net/ and runs in tests without threads or sockets.
#pragma once

#include <chrono>
#include <functional>

namespace parley::chat {

class LoopPort {
 public:
  using Task = std::function<void()>;

  // Thread-safe: `task` runs on the loop's thread soon, after what was
  // posted before it.
  virtual void post(Task task) = 0;
  // On the loop's thread only: `task` runs there after `delay`.
  virtual void run_after(std::chrono::milliseconds delay, Task task) = 0;
  // Whether the caller runs on the loop's thread (debug assertions).
  virtual bool in_loop_thread() const = 0;

 protected:
  ~LoopPort() = default;
};

}  // namespace parley::chat
