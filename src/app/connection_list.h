// The connections of one event loop, and their owner: a connection is created
// into the list, lives there while it is open, and is destroyed by the list
// after it ended (retire()), once the current batch of events is over, so an
// event later in the same batch never sees a dangling pointer. Nothing else
// deletes a connection.
//
// Doubly linked through the connections themselves: adding and retiring are
// O(1) with no allocation. The per-loop sweep and graceful shutdown visit
// every connection through for_each().
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "net/event_loop.h"

namespace parley::app {

class Connection;

class ConnectionList {
 public:
  // The list's links inside each connection.
  class Node {
   private:
    friend class ConnectionList;
    Node* prev_ = nullptr;
    Node* next_ = nullptr;
    bool listed_ = false;
  };

  explicit ConnectionList(net::EventLoop& loop);
  // Destroys every connection still listed or retired (the loop has stopped).
  ~ConnectionList();
  ConnectionList(const ConnectionList&) = delete;
  ConnectionList& operator=(const ConnectionList&) = delete;

  // Takes ownership.
  Connection& add(std::unique_ptr<Connection> c);
  // Unlinks `c` now and destroys it after the current batch of events. Safe
  // to call more than once.
  void retire(Connection& c);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Visits every connection listed when the call starts. `fn` may end any
  // connection (a broadcast can drop a slow peer), so we walk a snapshot;
  // that is safe because retired connections are destroyed only after the
  // current callback returns. Ended connections ignore the visit. O(n); the
  // snapshot's array is reused, and a nested walk gets its own.
  template <typename Fn>
  void for_each(Fn&& fn) {
    std::vector<Node*> snapshot;
    snapshot.swap(snapshot_);
    snapshot.clear();
    for (Node* n = head_; n != nullptr; n = n->next_) snapshot.push_back(n);
    for (Node* n : snapshot) fn(as_connection(n));
    snapshot_.swap(snapshot);
  }

 private:
  static Connection& as_connection(Node* n);
  void unlink(Node* n);
  void destroy_retired();

  net::EventLoop& loop_;
  Node* head_ = nullptr;
  std::size_t size_ = 0;
  std::vector<Node*> snapshot_;
  std::vector<std::unique_ptr<Connection>> retired_;
  bool destroy_scheduled_ = false;
};

}  // namespace parley::app
