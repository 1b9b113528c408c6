#include "chat/room_cache.h"

#include <algorithm>

namespace parley::chat {

void CacheBudget::add(RoomCache& cache, std::size_t bytes) {
  bytes_.store(this->bytes() + bytes, std::memory_order_relaxed);
  touch(cache);
}

void CacheBudget::sub(std::size_t bytes) {
  bytes_.store(this->bytes() - bytes, std::memory_order_relaxed);
}

void CacheBudget::touch(RoomCache& cache) {
  if (cache.in_lru_) {
    lru_.splice(lru_.end(), lru_, cache.lru_entry_);
  } else {
    cache.lru_entry_ = lru_.insert(lru_.end(), &cache);
    cache.in_lru_ = true;
  }
}

void CacheBudget::forget(RoomCache& cache) {
  if (!cache.in_lru_) return;
  lru_.erase(cache.lru_entry_);
  cache.in_lru_ = false;
}

void CacheBudget::enforce() {
  // The most recently used room (the one that just grew) is evicted from last.
  while (max_bytes_ > 0 && bytes() > max_bytes_ && !lru_.empty()) {
    RoomCache* victim = lru_.front();
    if (victim->messages_.empty()) {
      forget(*victim);
      continue;
    }
    victim->drop_oldest();
    evicted_.store(evicted_messages() + 1, std::memory_order_relaxed);
  }
}

RoomCache::RoomCache(uint64_t last_id, Limits limits, CacheBudget& budget)
    : limits_(limits), budget_(budget), last_id_(last_id), covered_after_(last_id) {
  // The cache never holds more than the History keeps, so it never shows a
  // message retention has deleted.
  if (limits_.retain_per_room > 0) {
    limits_.max_messages = std::min(limits_.max_messages, limits_.retain_per_room);
  }
}

RoomCache::~RoomCache() {
  budget_.sub(bytes_);
  budget_.forget(*this);
}

void RoomCache::append(Message message) {
  last_id_ = std::max(last_id_, message.id);
  if (limits_.max_messages == 0) {
    covered_after_ = last_id_;
    return;
  }
  std::size_t bytes = message.bytes();
  messages_.push_back(std::move(message));
  bytes_ += bytes;
  budget_.add(*this, bytes);
  enforce_room_limits();
  budget_.enforce();
}

void RoomCache::enforce_room_limits() {
  while (messages_.size() > limits_.max_messages ||
         (limits_.max_bytes > 0 && bytes_ > limits_.max_bytes && messages_.size() > 1)) {
    drop_oldest();
  }
}

void RoomCache::drop_oldest() {
  covered_after_ = messages_.front().id;
  std::size_t bytes = messages_.front().bytes();
  messages_.pop_front();
  bytes_ -= bytes;
  budget_.sub(bytes);
  if (messages_.empty()) {
    std::deque<Message>().swap(messages_);  // give the blocks back
    budget_.forget(*this);
  }
}

bool RoomCache::older_exist(uint64_t first_id) const {
  // Retention deletes a room's oldest messages: with N kept, nothing below
  // last_id - N + 1 exists any more.
  uint64_t oldest_kept = 1;
  if (limits_.retain_per_room > 0 && last_id_ >= limits_.retain_per_room) {
    oldest_kept = last_id_ - limits_.retain_per_room + 1;
  }
  return first_id > oldest_kept;
}

std::optional<Page> RoomCache::read(const PageQuery& q) const {
  if (q.from == PageQuery::From::Newest) return newest(q.limit, UINT64_MAX);
  if (q.from == PageQuery::From::Before) return newest(q.limit, q.anchor);
  // After: the oldest `limit` messages with id > anchor.
  if (q.anchor < covered_after_) return std::nullopt;
  Page page;
  auto it = std::upper_bound(messages_.begin(), messages_.end(), q.anchor,
                             [](uint64_t id, const Message& m) { return id < m.id; });
  for (; it != messages_.end() && page.messages.size() < q.limit; ++it) {
    page.messages.push_back(*it);
  }
  page.truncated = it != messages_.end();
  return page;
}

std::optional<Page> RoomCache::newest(std::size_t limit, uint64_t below) const {
  // The newest `limit` messages with id < below. Answerable when the cache
  // has that many, or when nothing older than the cache exists any more.
  auto end = std::lower_bound(messages_.begin(), messages_.end(), below,
                              [](const Message& m, uint64_t id) { return m.id < id; });
  auto available = static_cast<std::size_t>(end - messages_.begin());
  bool reaches_start = !older_exist(covered_after_ + 1);
  if (available < limit && !reaches_start) return std::nullopt;
  std::size_t n = std::min(limit, available);
  Page page;
  page.messages.assign(end - static_cast<std::ptrdiff_t>(n), end);
  page.truncated = n > 0 && older_exist(page.messages.front().id);
  return page;
}

std::vector<Message> RoomCache::newer_than(uint64_t id) const {
  auto it = std::upper_bound(messages_.begin(), messages_.end(), id,
                             [](uint64_t v, const Message& m) { return v < m.id; });
  return std::vector<Message>(it, messages_.end());
}

void RoomCache::warm(const std::vector<Message>& page) {
  // Only a page that ends where the cache begins keeps the invariant.
  if (page.empty() || page.back().id != covered_after_ || limits_.max_messages == 0) return;
  std::size_t room = limits_.max_messages - std::min(limits_.max_messages, messages_.size());
  std::size_t take = std::min(room, page.size());
  for (std::size_t i = 0; i < take; ++i) {
    Message m = page[page.size() - 1 - i];
    std::size_t bytes = m.bytes();
    if (limits_.max_bytes > 0 && bytes_ + bytes > limits_.max_bytes) break;
    covered_after_ = m.id - 1;
    bytes_ += bytes;
    budget_.add(*this, bytes);
    messages_.push_front(std::move(m));
  }
  budget_.enforce();
}

}  // namespace parley::chat
