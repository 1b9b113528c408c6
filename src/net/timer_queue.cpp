#include "net/timer_queue.h"

#include <cassert>
#include <utility>

namespace parley::net {
namespace {

constexpr uint32_t slot_of(TimerQueue::Id id) {
  return static_cast<uint32_t>(id & 0xffffffffu);
}
constexpr uint32_t generation_of(TimerQueue::Id id) {
  return static_cast<uint32_t>(id >> 32);
}

}  // namespace

TimerQueue::Id TimerQueue::add(Clock::time_point due, Task task) {
  uint32_t slot;
  if (free_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  Slot& s = slots_[slot];
  s.due = due;
  s.seq = next_seq_++;
  s.task = std::move(task);
  heap_.push_back(slot);
  s.heap_pos = static_cast<uint32_t>(heap_.size() - 1);
  sift_up(heap_.size() - 1);
  return (static_cast<Id>(s.generation) << 32) | slot;
}

void TimerQueue::cancel(Id id) {
  uint32_t slot = slot_of(id);
  if (id == 0 || slot >= slots_.size() || slots_[slot].generation != generation_of(id)) return;
  remove_at(slots_[slot].heap_pos);
}

bool TimerQueue::pop_due(Clock::time_point now, Task& task) {
  if (heap_.empty() || slots_[heap_.front()].due > now) return false;
  task = std::move(slots_[heap_.front()].task);
  remove_at(0);
  return true;
}

bool TimerQueue::before(uint32_t a, uint32_t b) const {
  const Slot& x = slots_[a];
  const Slot& y = slots_[b];
  return x.due < y.due || (x.due == y.due && x.seq < y.seq);
}

void TimerQueue::place(std::size_t pos, uint32_t slot) {
  heap_[pos] = slot;
  slots_[slot].heap_pos = static_cast<uint32_t>(pos);
}

void TimerQueue::sift_up(std::size_t pos) {
  uint32_t slot = heap_[pos];
  while (pos > 0) {
    std::size_t parent = (pos - 1) / 2;
    if (!before(slot, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, slot);
}

void TimerQueue::sift_down(std::size_t pos) {
  uint32_t slot = heap_[pos];
  const std::size_t n = heap_.size();
  while (true) {
    std::size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], slot)) break;
    place(pos, heap_[child]);
    pos = child;
  }
  place(pos, slot);
}

void TimerQueue::remove_at(std::size_t pos) {
  assert(pos < heap_.size());
  uint32_t slot = heap_[pos];
  uint32_t last = heap_.back();
  heap_.pop_back();
  if (pos < heap_.size()) {
    place(pos, last);
    // The moved element may belong above or below its new place.
    if (pos > 0 && before(last, heap_[(pos - 1) / 2])) {
      sift_up(pos);
    } else {
      sift_down(pos);
    }
  }
  free_slot(slot);
}

void TimerQueue::free_slot(uint32_t slot) {
  Slot& s = slots_[slot];
  s.task = nullptr;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // ids are never 0
  free_.push_back(slot);
}

}  // namespace parley::net
