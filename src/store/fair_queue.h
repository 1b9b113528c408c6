// A queue that takes its keys in turn: FIFO within a key (a room), round-robin between the keys
// that have items, and within a key round-robin between its lanes (the chat uses one lane per
// connection for reads; appends use one lane per room). Turns are weighted (deficit round-robin
// by the items' weights, e.g. bytes): each visit adds `quantum` to the key's credit and serves
// its next item if the credit covers its weight, so a key of heavy items is served once per
// (weight / quantum) turns of the others and a key of light items once per turn; a key's
// unused credit is capped at one quantum (no banking while it sends little). With weight 0 (the
// reader) it is plain round-robin. However much one room queues, another room's next item
// waits for at most about one quantum's worth of each other room's items, or one item heavier
// than that.
//
// Not thread-safe: WorkQueue (work_queue.h) owns one under its mutex. Items carry a sequence
// number in push order, so a consumer can tell which of the items pushed before some moment are
// still waiting (oldest_seq).
//
// Costs: push O(1); pop O(1) plus one skipped visit per quantum of a heavy item's weight;
// oldest_seq O(keys with items).
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
    uint64_t weight = 0;
  };

  explicit FairQueue(uint64_t quantum = 4096) : quantum_(quantum == 0 ? 1 : quantum) {}

  void push(const std::string& key, uint64_t lane, T&& item, uint64_t weight = 0) {
    auto [k, new_key] = keys_.try_emplace(key);
    Key& entry = k->second;
    if (new_key) ring_.push_back(key);
    auto [l, new_lane] = entry.lanes.try_emplace(lane);
    if (new_lane) entry.ring.push_back(lane);
    l->second.push_back(Entry{std::move(item), next_seq_++, weight});
    ++size_;
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // How many items were ever pushed (the next item's seq).
  uint64_t pushed() const { return next_seq_; }

  // The item whose turn it is, left in place. Precondition: !empty().
  const Entry& front() {
    Key& entry = settle();
    return entry.lanes.find(entry.ring.front())->second.front();
  }

  // The item whose turn it is, and the key it was pushed under. Precondition: !empty().
  std::pair<Entry, std::string> pop() {
    settle();
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
    entry.credit = std::min(entry.credit - out.weight, quantum_);
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
    uint64_t credit = 0;                                    // deficit round-robin
  };

  // Visits keys (adding a quantum to each one's credit) until the front key's credit covers its
  // next item; returns that key.
  Key& settle() {
    for (;;) {
      Key& entry = keys_.find(ring_.front())->second;
      const Entry& next = entry.lanes.find(entry.ring.front())->second.front();
      if (entry.credit >= next.weight) return entry;
      entry.credit += quantum_;
      if (entry.credit >= next.weight) return entry;  // served on this visit
      ring_.push_back(std::move(ring_.front()));
      ring_.pop_front();
    }
  }
  std::unordered_map<std::string, Key> keys_;  // only keys with items
  std::deque<std::string> ring_;               // those keys, next first
  const uint64_t quantum_;
  std::size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace parley::store
