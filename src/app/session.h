// What the server keeps for every accepted connection, whatever its phase:
// a node in the server's session list, visited by the periodic timeout sweep
// and by graceful shutdown.
#pragma once

#include <vector>

#include "net/event_loop.h"

namespace parley::app {

class Session {
 public:
  virtual ~Session() = default;

  // Periodic check of this session's deadlines (handshake, ping, idle).
  virtual void tick(net::Clock::time_point now) = 0;
  // Server is stopping: say goodbye (WebSocket close 1001) and close.
  virtual void shutdown() = 0;
  // The loop is stopping for good: close now and schedule destruction.
  virtual void abort() = 0;

  // Intrusive list links, owned by SessionList.
  Session* prev_ = nullptr;
  Session* next_ = nullptr;
  bool listed_ = false;
};

// Doubly linked, so adding and removing a session is O(1) with no allocation.
class SessionList {
 public:
  void add(Session* s);
  void remove(Session* s);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Visits every session listed when the call starts. `fn` may close any
  // session (a broadcast can drop a slow peer), so we walk a snapshot; that is
  // safe because sessions are destroyed only through EventLoop::defer, after
  // the current callback returns.
  template <typename Fn>
  void for_each(Fn&& fn) {
    snapshot_.clear();
    for (Session* s = head_; s != nullptr; s = s->next_) snapshot_.push_back(s);
    for (Session* s : snapshot_) fn(*s);
  }

 private:
  Session* head_ = nullptr;
  std::size_t size_ = 0;
  std::vector<Session*> snapshot_;
};

}  // namespace parley::app
