// The event loop's one-shot timers: a binary min-heap of slots, each slot
// remembering its place in the heap, so that adding, cancelling and firing a
// timer are all O(log n) and the earliest deadline is O(1).
//
// Why not a plain priority_queue with lazy deletion (what we had): cancel was
// a linear search of the tasks, and a graceful close holds a linger timer per
// connection, so closing N clients at once (shutdown, a room's members leaving
// together) cost O(N^2). Why not a timing wheel: timers here are few (the
// per-loop sweep handles every per-connection deadline in one pass) and have
// arbitrary delays; a heap is exact and small.
//
// An Id names a slot and the slot's generation, so cancelling a timer that
// already fired (or was cancelled, and its slot reused) does nothing.
// Ties on the deadline fire in the order the timers were added.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "net/clock.h"

namespace parley::net {

class TimerQueue {
 public:
  using Task = std::function<void()>;
  using Id = uint64_t;  // never 0, so 0 can mean "no timer"

  Id add(Clock::time_point due, Task task);
  // No-op for an id that fired, was cancelled, or is 0.
  void cancel(Id id);

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // The earliest deadline; only when !empty().
  Clock::time_point next_due() const { return slots_[heap_.front()].due; }

  // Removes the earliest timer if it is due at `now` and hands back its task
  // (to be run by the caller, after which the queue may have changed).
  bool pop_due(Clock::time_point now, Task& task);

 private:
  struct Slot {
    Clock::time_point due{};
    uint64_t seq = 0;         // insertion order, for ties
    uint32_t generation = 1;  // bumped when the slot is freed
    uint32_t heap_pos = 0;
    Task task;
  };

  bool before(uint32_t a, uint32_t b) const;
  void place(std::size_t pos, uint32_t slot);
  void sift_up(std::size_t pos);
  void sift_down(std::size_t pos);
  void remove_at(std::size_t pos);
  void free_slot(uint32_t slot);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> heap_;  // slot indices
  uint64_t next_seq_ = 0;
};

}  // namespace parley::net
