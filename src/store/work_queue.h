// Work handed from any number of producer threads to one consumer thread, which takes it in
// batches: the history writer turns each batch into one transaction, the reader answers one
// read at a time. Items leave in FairQueue's order (fair_queue.h): round-robin between keys
// (rooms), FIFO within a key's lane.
//
// Budgets (0 = none): the items waiting (`items`), and the bytes in flight overall (`bytes`)
// and per key (`key_bytes`). An item's bytes are charged from push until the consumer
// release()s them, i.e. while it waits AND while the consumer works on it. A push that would
// take a budget past its limit is refused, except that an empty budget always admits one item,
// whatever its size: a key (or the queue) with nothing in flight is never refused for bytes,
// so an item larger than a budget still goes through, one at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/fair_queue.h"

namespace parley::store {

template <typename T>
class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  enum class PushResult { kQueued, kFull, kKeyOverBudget, kOverBudget, kClosed };
  struct Limits {
    std::size_t items = 0;   // items waiting
    uint64_t bytes = 0;      // bytes in flight, all keys
    uint64_t key_bytes = 0;  // bytes in flight, per key
  };

  explicit WorkQueue(Limits limits = {}) : limits_(limits) {}

  // `item` is moved from only when the result is kQueued, so the caller can still answer it.
  // `bytes` is what it weighs against the byte budgets (0: nothing, nothing to release).
  PushResult push(const std::string& key, uint64_t lane, uint64_t bytes, T&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return PushResult::kClosed;
      if (limits_.items != 0 && items_.size() >= limits_.items) return PushResult::kFull;
      if (bytes != 0) {
        uint64_t& charged = charged_[key];  // erased again below if refused
        if (!fits(charged, bytes, limits_.key_bytes)) {
          if (charged == 0) charged_.erase(key);
          return PushResult::kKeyOverBudget;
        }
        if (!fits(charged_total_, bytes, limits_.bytes)) {
          if (charged == 0) charged_.erase(key);
          return PushResult::kOverBudget;
        }
        charged += bytes;
        charged_total_ += bytes;
      }
      items_.push(key, lane, std::move(item), bytes);
      // Only the push the consumer waits for wakes it: no wake-up per item while it fills a
      // batch or is busy.
      wake = wanted_ != 0 && items_.size() == wanted_;
    }
    if (wake) ready_.notify_one();
    return PushResult::kQueued;
  }

  // The consumer is done with an item pushed with `bytes` under `key`: its bytes leave the
  // budgets.
  void release(const std::string& key, uint64_t bytes) {
    if (bytes == 0) return;
    std::lock_guard lock(mutex_);
    auto it = charged_.find(key);
    if (it == charged_.end()) return;
    it->second -= std::min(it->second, bytes);
    charged_total_ -= std::min(charged_total_, bytes);
    if (it->second == 0) charged_.erase(it);
  }

  // Waits until something is queued, the queue is closed, or `deadline` passes. Then, while
  // fewer than `max_items` wait and `fill_until` is ahead, waits for more (up to fill_until), so
  // that a busy consumer takes fewer, bigger batches. Moves up to `max_items` into `out`
  // (cleared first; it may come back empty on a timeout), in turn, and stops before an item
  // that would take their `weight` past `max_weight` (0 = no limit); the first item is taken
  // whatever it weighs. Returns false once the queue is closed and empty: the consumer is done.
  template <typename Weight>
  bool pop_batch(std::vector<T>& out, std::size_t max_items, uint64_t max_weight, Weight&& weight,
                 Clock::time_point deadline = Clock::time_point::max(),
                 Clock::time_point fill_until = Clock::time_point::min()) {
    out.clear();
    std::unique_lock lock(mutex_);
    auto has_work = [&] { return closed_ || items_.size() >= wanted_; };
    wanted_ = 1;
    if (deadline == Clock::time_point::max()) {
      ready_.wait(lock, has_work);
    } else {
      ready_.wait_until(lock, deadline, has_work);
    }
    if (!items_.empty() && items_.size() < max_items && Clock::now() < fill_until) {
      wanted_ = max_items;
      ready_.wait_until(lock, fill_until, has_work);
    }
    wanted_ = 0;
    if (closed_ && items_.empty()) return false;
    uint64_t taken = 0;
    while (!items_.empty() && out.size() < max_items) {
      const uint64_t next = weight(items_.front().item);
      if (max_weight != 0 && !out.empty() && taken + next > max_weight) break;
      out.push_back(std::move(items_.pop().first.item));
      taken += next;
    }
    return true;
  }

  bool pop_batch(std::vector<T>& out, std::size_t max_items,
                 Clock::time_point deadline = Clock::time_point::max(),
                 Clock::time_point fill_until = Clock::time_point::min()) {
    return pop_batch(
        out, max_items, 0, [](const T&) { return uint64_t{0}; }, deadline, fill_until);
  }

  // Refuses further pushes; the consumer still gets what is already queued.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  // Open with nothing waiting: the consumer may spend a moment on background work.
  bool idle() const {
    std::lock_guard lock(mutex_);
    return !closed_ && items_.empty();
  }

  // Items waiting now (for a gauge).
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

  // Bytes in flight now, all keys (for a gauge).
  uint64_t charged() const {
    std::lock_guard lock(mutex_);
    return charged_total_;
  }

  // How many items were ever queued.
  uint64_t pushed() const {
    std::lock_guard lock(mutex_);
    return items_.pushed();
  }

  // Every item pushed before the pushed() count that this returns has been taken by the
  // consumer (the oldest still waiting, or pushed() when none waits).
  uint64_t taken_below() const {
    std::lock_guard lock(mutex_);
    return items_.oldest_seq();
  }

 private:
  static bool fits(uint64_t charged, uint64_t bytes, uint64_t limit) {
    return limit == 0 || charged == 0 || charged + bytes <= limit;
  }

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  FairQueue<T> items_;
  const Limits limits_;
  std::unordered_map<std::string, uint64_t> charged_;  // only keys with bytes in flight
  uint64_t charged_total_ = 0;
  std::size_t wanted_ = 0;  // items the consumer waits for; 0 = it is not waiting
  bool closed_ = false;
};

}  // namespace parley::store
