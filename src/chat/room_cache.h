// The recent entries of one room's log, kept on the room's home loop so that
// joins and history pages are answered without asking the History.
//
// Invariant: the cache holds every entry (message or change) with an id in
// (covered_after, last_id], in order, and each cached message in its current
// state (a change appended here is applied to its target when the target is
// cached, with the rules of chat/message_log.h). A question about ids inside
// that range is answered here exactly as the History would answer it;
// anything else goes to the History.
//
// Bounded three ways: messages per room, bytes per room, and bytes across all
// rooms of the loop (CacheBudget: when the loop's rooms together exceed it,
// the least recently used room gives up its oldest messages first). Dropping
// the oldest messages only moves `covered_after` up, so the invariant holds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <vector>

#include "base/lazy_deque.h"
#include "chat/history.h"

namespace parley::chat {

class RoomCache;

// The byte budget shared by the caches of one loop's rooms. Touched only from
// that loop; bytes() may be read from any thread (GET /metrics).
class CacheBudget {
 public:
  explicit CacheBudget(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  CacheBudget(const CacheBudget&) = delete;
  CacheBudget& operator=(const CacheBudget&) = delete;

  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t evicted_messages() const { return evicted_.load(std::memory_order_relaxed); }

 private:
  friend class RoomCache;
  void add(RoomCache& cache, std::size_t bytes);
  void sub(std::size_t bytes);
  // Makes `cache` the most recently used.
  void touch(RoomCache& cache);
  void forget(RoomCache& cache);
  // Evicts from the least recently used rooms until within the budget.
  void enforce();

  const std::size_t max_bytes_;  // 0 = no limit
  std::list<RoomCache*> lru_;    // front: least recently used
  std::atomic<std::size_t> bytes_{0};
  std::atomic<uint64_t> evicted_{0};
};

class RoomCache {
 public:
  struct Limits {
    std::size_t max_messages = 256;   // 0 = keep nothing
    std::size_t max_bytes = 1 << 20;  // per room; 0 = no limit
    std::size_t retain_per_room = 0;  // the History's retention by count (0 = all)
  };

  RoomCache(uint64_t last_id, Limits limits, CacheBudget& budget);
  ~RoomCache();
  RoomCache(const RoomCache&) = delete;
  RoomCache& operator=(const RoomCache&) = delete;

  uint64_t last_id() const { return last_id_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return entries_.size(); }  // entries

  // The room's newest entry, just stored (a change with its count filled).
  void append(Message entry);
  // The page the History would answer, if the cache holds all of it.
  std::optional<Page> read(const PageQuery& query) const;
  // Cached entries with an id above `id` (to complete a page read earlier).
  std::vector<Message> newer_than(uint64_t id) const;
  // Brings messages read from the History up to date with the changes cached
  // here that they do not reflect yet (stored while they were being read).
  void refresh(std::vector<Message>& messages) const;
  // Seeds the cache with a Newest page read from the History: the messages
  // at its end that are contiguous with where the cache begins.
  void warm(const std::vector<Message>& page);

 private:
  friend class CacheBudget;
  // The newest `limit` messages with id < below, oldest first; nullopt when
  // older ones the cache does not hold could belong in it.
  std::optional<std::vector<Message>> newest(std::size_t limit, uint64_t below) const;
  Message* find(uint64_t id);
  void apply(const Message& change);
  bool older_exist(uint64_t first_id) const;
  void drop_oldest();
  void enforce_room_limits();

  Limits limits_;
  CacheBudget& budget_;
  std::list<RoomCache*>::iterator lru_entry_;
  bool in_lru_ = false;
  uint64_t last_id_;
  uint64_t covered_after_;
  LazyDeque<Message> entries_;  // no memory while empty (--history off)
  std::size_t bytes_ = 0;
};

}  // namespace parley::chat
