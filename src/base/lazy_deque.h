// A std::deque that holds no memory while it is empty.
//
// libstdc++'s std::deque allocates its map (64 B) and a first block (512 B,
// or one element when that is larger) as soon as it is constructed, even a
// default-constructed one, and keeps them when it empties. A chat room keeps
// two queues that are empty almost all the time (its outbox and its message
// cache with --history off), so 19,000 idle rooms held ~1.1 KB each for
// nothing (docs/BENCHMARKS.md, memory per connection). LazyDeque creates the
// deque at the first insertion and frees it when the last element goes.
//
// Only what its users need is forwarded. Iterators of an empty LazyDeque are
// those of a shared empty deque (never modified): valid to compare and to
// pass to algorithms, as for any empty range.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace parley {

template <class T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  bool empty() const { return !items_ || items_->empty(); }
  std::size_t size() const { return items_ ? items_->size() : 0; }
  // Whether it holds a deque now (for tests: empty means none).
  bool allocated() const { return items_ != nullptr; }

  T& front() { return items_->front(); }
  const T& front() const { return items_->front(); }
  T& back() { return items_->back(); }
  const T& back() const { return items_->back(); }
  T& operator[](std::size_t i) { return (*items_)[i]; }
  const T& operator[](std::size_t i) const { return (*items_)[i]; }

  iterator begin() { return items().begin(); }
  iterator end() { return items().end(); }
  const_iterator begin() const { return items().begin(); }
  const_iterator end() const { return items().end(); }

  void push_back(T value) { ensure().push_back(std::move(value)); }
  void push_front(T value) { ensure().push_front(std::move(value)); }
  void pop_front() {
    items_->pop_front();
    if (items_->empty()) items_.reset();
  }
  void clear() { items_.reset(); }

 private:
  std::deque<T>& ensure() {
    if (!items_) items_ = std::make_unique<std::deque<T>>();
    return *items_;
  }
  std::deque<T>& items() { return items_ ? *items_ : shared_empty(); }
  const std::deque<T>& items() const { return items_ ? *items_ : shared_empty(); }
  static std::deque<T>& shared_empty() {
    static std::deque<T> none;  // never modified
    return none;
  }

  std::unique_ptr<std::deque<T>> items_;
};

}  // namespace parley
