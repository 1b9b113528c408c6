// A queue that takes its keys in turn: FIFO within a key (a room), round-robin between the keys
// that have items, and within a key round-robin between its lanes (the chat uses one lane per
// connection for reads, one lane per room for appends). One item per key and turn: whatever
// one room queues, another room's next item is at most one turn away, i.e. behind at most one
// item of each other room with work waiting.
//
// Not thread-safe: WorkQueue (work_queue.h) owns one under its mutex. Items carry a sequence
// number in push order, so a consumer can tell which of the items pushed before some moment are
// still waiting (oldest_seq).
//
// Costs: push and pop O(1) (hash lookups); oldest_seq O(keys with items).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace parley::store {

template <typename T>
class FairQueue {
 public:
  struct Entry {
    T item;
    uint64_t seq = 0;  // 0, 1, 2 ... in push order
  };

  void push(const std::string& key, uint64_t lane, T&& item) {
    auto [k, new_key] = keys_.try_emplace(key);
    Key& entry = k->second;
    if (new_key) ring_.push_back(key);
    auto [l, new_lane] = entry.lanes.try_emplace(lane);
    if (new_lane) entry.ring.push_back(lane);
    l->second.push_back(Entry{std::move(item), next_seq_++});
    ++size_;
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // How many items were ever pushed (the next item's seq).
  uint64_t pushed() const { return next_seq_; }

  // The item whose turn it is, left in place. Precondition: !empty().
  const T& front() const {
    const Key& entry = keys_.find(ring_.front())->second;
    return entry.lanes.find(entry.ring.front())->second.front().item;
  }

  // The item whose turn it is, and the key it was pushed under. Precondition: !empty().
  std::pair<Entry, std::string> pop() {
    std::string key = std::move(ring_.front());
    ring_.pop_front();
    auto k = keys_.find(key);
    Key& entry = k->second;
    const uint64_t lane = entry.ring.front();
    entry.ring.pop_front();
    auto l = entry.lanes.find(lane);
    Entry out = std::move(l->second.front());
    l->second.pop_front();
    --size_;
    if (l->second.empty()) {
      entry.lanes.erase(l);
    } else {
      entry.ring.push_back(lane);  // the lane's next item waits for the key's other lanes
    }
    if (entry.lanes.empty()) {
      keys_.erase(k);
    } else {
      ring_.push_back(key);  // the key's next item waits for the other keys
    }
    return {std::move(out), std::move(key)};
  }

  // The smallest seq still queued, or pushed() when empty: every item with a smaller seq has
  // been popped.
  uint64_t oldest_seq() const {
    uint64_t oldest = next_seq_;
    for (const auto& [key, entry] : keys_) {
      for (const auto& [lane, items] : entry.lanes) oldest = std::min(oldest, items.front().seq);
    }
    return oldest;
  }

 private:
  struct Key {
    std::unordered_map<uint64_t, std::deque<Entry>> lanes;  // only lanes with items
    std::deque<uint64_t> ring;                              // those lanes, next first
  };
  std::unordered_map<std::string, Key> keys_;  // only keys with items
  std::deque<std::string> ring_;               // those keys, next first
  std::size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace parley::store
