// guest-N numbers unique across the nodes of a deployment (--redis): each
// node leases blocks of numbers from one Redis counter (`INCRBY
// parley:guests <block>`) and hands them out from memory, leasing the next
// block when half of the current one is used, so a plain-text connection
// never waits for Redis. Numbers grow with time on every node, interleaved
// by block, never repeated.
//
// While no block could be leased (Redis unreachable since start, or
// connections faster than a lease), numbers come from this node's own
// counter and may repeat another node's; the room's name rule still makes
// the names in a room unique ("guest-7-2").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "store/redis/forward.h"

namespace parley::chat {

class RedisGuests {
 public:
  explicit RedisGuests(redis::Connection& connection, uint64_t block = 64);
  ~RedisGuests();

  // On the connection's loop: leases the first block (as soon as it is up).
  void start();
  // On the connection's loop: it came (back) up; a lease waiting for it goes now.
  void connection_up();
  // Any thread.
  uint64_t next();
  // Any thread: a block has been leased, so numbers from now on are the
  // cluster's (until then they are this node's own; /healthz says so).
  bool leased() const;

 private:
  void lease();  // on the connection's loop
  void on_lease(uint64_t end);

  redis::Connection& connection_;
  const uint64_t block_;
  mutable std::mutex mutex_;
  uint64_t next_ = 0, end_ = 0;         // the block in use: [next_, end_)
  uint64_t spare_ = 0, spare_end_ = 0;  // the next one, leased ahead
  bool leasing_ = false;
  bool leased_ = false;          // a block came, once
  bool waiting_for_up_ = false;  // connection's loop only
  uint64_t local_ = 1;           // without a block
  std::shared_ptr<RedisGuests*> self_;
};

}  // namespace parley::chat
