// A FIFO handed from any number of producer threads to one consumer thread that takes
// everything waiting at once (the history writer turns each take into one transaction).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace parley::store {

template <typename T>
class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  enum class PushResult { kQueued, kFull, kClosed };

  // `capacity` bounds the items waiting; 0 = unbounded.
  explicit WorkQueue(std::size_t capacity = 0) : capacity_(capacity) {}

  // `item` is moved from only when the result is kQueued, so the caller can still answer it.
  PushResult push(T&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return PushResult::kClosed;
      if (capacity_ != 0 && items_.size() >= capacity_) return PushResult::kFull;
      items_.push_back(std::move(item));
      ++pushed_;
      // Only the push the consumer waits for wakes it: no wake-up per item while it fills a
      // batch or is busy.
      wake = wanted_ != 0 && items_.size() == wanted_;
    }
    if (wake) ready_.notify_one();
    return PushResult::kQueued;
  }

  // Waits until something is queued, the queue is closed, or `deadline` passes. Then, while
  // fewer than `max_items` wait and `fill_until` is ahead, waits for more (up to fill_until), so
  // that a busy consumer takes fewer, bigger batches. Moves up to `max_items` into `out`
  // (cleared first; it may come back empty on a timeout). Returns false once the queue is
  // closed and empty: the consumer is done.
  bool pop_batch(std::vector<T>& out, std::size_t max_items,
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
    std::size_t n = std::min(max_items, items_.size());
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    return true;
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

  // How many items were ever queued. Items leave in this order, so "the first N pushed" is
  // exactly what was queued before a caller read N.
  // Items waiting now (for a gauge).
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

  uint64_t pushed() const {
    std::lock_guard lock(mutex_);
    return pushed_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> items_;
  std::size_t capacity_;
  uint64_t pushed_ = 0;
  std::size_t wanted_ = 0;  // items the consumer waits for; 0 = it is not waiting
  bool closed_ = false;
};

}  // namespace parley::store
