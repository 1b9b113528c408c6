#include "chat/room_cache.h"

#include <algorithm>

#include "chat/message_log.h"

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
    if (victim->entries_.empty()) {
      forget(*victim);
      continue;
    }
    victim->drop_oldest();
    evicted_.store(evicted_messages() + 1, std::memory_order_relaxed);
  }
}

RoomCache::RoomCache(uint64_t last_id, Limits limits, CacheBudget& budget)
    : limits_(limits), budget_(budget), last_id_(last_id), covered_after_(last_id) {
  // The cache never holds more than the History keeps, so it never shows an
  // entry retention has deleted.
  if (limits_.retain_per_room > 0) {
    limits_.max_messages = std::min(limits_.max_messages, limits_.retain_per_room);
  }
}

RoomCache::~RoomCache() {
  budget_.sub(bytes_);
  budget_.forget(*this);
}

Message* RoomCache::find(uint64_t id) {
  if (entries_.empty() || id <= covered_after_ || id > last_id_) return nullptr;
  return &entries_[id - entries_.front().id];  // ids are contiguous
}

void RoomCache::apply(const Message& change) {
  std::size_t before = 0, after = 0;
  Message* target = find(change.target);
  if (target != nullptr && target->is_message()) {
    before = target->bytes();
    Message copy = change;
    apply_change(*target, copy);
    after = target->bytes();
  }
  // Replies quoting a deleted message lose the quote, whether or not the
  // message itself is still cached.
  if (change.kind == EntryKind::Delete) {
    for (Message& m : entries_) {
      if (!m.is_message() || m.reply.id != change.target || m.reply.deleted) continue;
      before += m.bytes();
      forget_quote(m.reply);
      after += m.bytes();
    }
  }
  bytes_ = bytes_ + after - before;
  budget_.sub(before);
  budget_.add(*this, after);
}

void RoomCache::append(Message entry) {
  last_id_ = std::max(last_id_, entry.id);
  if (limits_.max_messages == 0) {
    covered_after_ = last_id_;
    return;
  }
  if (!entry.is_message()) apply(entry);
  std::size_t bytes = entry.bytes();
  entries_.push_back(std::move(entry));
  bytes_ += bytes;
  budget_.add(*this, bytes);
  enforce_room_limits();
  budget_.enforce();
}

void RoomCache::enforce_room_limits() {
  while (entries_.size() > limits_.max_messages ||
         (limits_.max_bytes > 0 && bytes_ > limits_.max_bytes && entries_.size() > 1)) {
    drop_oldest();
  }
}

void RoomCache::drop_oldest() {
  covered_after_ = entries_.front().id;
  std::size_t bytes = entries_.front().bytes();
  entries_.pop_front();
  bytes_ -= bytes;
  budget_.sub(bytes);
  if (entries_.empty()) {
    budget_.forget(*this);
  }
}

bool RoomCache::older_exist(uint64_t first_id) const {
  // Retention deletes a room's oldest entries: with N kept, nothing below
  // last_id - N + 1 exists any more.
  uint64_t oldest_kept = 1;
  if (limits_.retain_per_room > 0 && last_id_ >= limits_.retain_per_room) {
    oldest_kept = last_id_ - limits_.retain_per_room + 1;
  }
  return first_id > oldest_kept;
}

std::optional<Page> RoomCache::read(const PageQuery& q) const {
  using From = PageQuery::From;
  Page page;
  if (q.from == From::After) {  // the oldest `limit` entries with id > anchor
    if (q.anchor < covered_after_) return std::nullopt;
    auto it = std::upper_bound(entries_.begin(), entries_.end(), q.anchor,
                               [](uint64_t id, const Message& m) { return id < m.id; });
    for (; it != entries_.end() && page.messages.size() < q.limit; ++it) {
      page.messages.push_back(*it);
    }
    page.truncated = it != entries_.end();
    return page;
  }
  uint64_t below = q.from == From::Newest ? UINT64_MAX : q.anchor;
  std::size_t older = q.limit;
  if (q.from == From::Around) {
    if (q.anchor < covered_after_) return std::nullopt;  // newer messages it does not hold
    below = q.anchor + 1;
    older = q.limit - q.limit / 2;
  }
  std::optional<std::vector<Message>> messages = newest(older, below);
  if (!messages) return std::nullopt;
  page.messages = std::move(*messages);
  if (q.from == From::Around) {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), q.anchor,
                               [](uint64_t id, const Message& m) { return id < m.id; });
    for (std::size_t n = 0; it != entries_.end() && n < q.limit / 2; ++it) {
      if (!it->is_message()) continue;
      page.messages.push_back(*it);
      ++n;
    }
  }
  if (!page.messages.empty()) {
    page.truncated = older_exist(page.messages.front().id);
    page.newer = q.from == From::Around && page.messages.back().id < last_id_;
  }
  return page;
}

std::optional<std::vector<Message>> RoomCache::newest(std::size_t limit, uint64_t below) const {
  // Answerable when the cache has that many, or when nothing older than the
  // cache exists any more.
  auto end = std::lower_bound(entries_.begin(), entries_.end(), below,
                              [](const Message& m, uint64_t id) { return m.id < id; });
  std::vector<Message> out;
  for (auto it = end; it != entries_.begin() && out.size() < limit;) {
    --it;
    if (it->is_message()) out.push_back(*it);
  }
  bool reaches_start = !older_exist(covered_after_ + 1);
  if (out.size() < limit && !reaches_start) return std::nullopt;
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Message> RoomCache::newer_than(uint64_t id) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), id,
                             [](uint64_t v, const Message& m) { return v < m.id; });
  return std::vector<Message>(it, entries_.end());
}

void RoomCache::refresh(std::vector<Message>& messages) const {
  if (messages.empty()) return;
  for (const Message& change : entries_) {
    if (change.is_message()) continue;
    if (change.kind == EntryKind::Delete) {
      for (Message& m : messages) {
        if (m.reply.id == change.target && !m.reply.deleted) forget_quote(m.reply);
      }
    }
    auto it = std::lower_bound(messages.begin(), messages.end(), change.target,
                               [](const Message& m, uint64_t id) { return m.id < id; });
    if (it == messages.end() || it->id != change.target || !it->is_message()) continue;
    Message copy = change;
    apply_change(*it, copy);  // skips what the message already reflects
  }
}

void RoomCache::warm(const std::vector<Message>& page) {
  // Only entries contiguous with the cache's start keep the invariant: the
  // page's messages from its end while their ids follow each other (a gap is
  // a change entry the page does not hold).
  if (page.empty() || page.back().id != covered_after_ || limits_.max_messages == 0) return;
  std::size_t room = limits_.max_messages - std::min(limits_.max_messages, entries_.size());
  for (std::size_t i = 0; i < std::min(room, page.size()); ++i) {
    Message m = page[page.size() - 1 - i];
    if (m.id != covered_after_ || !m.is_message()) break;
    std::vector<Message> one{std::move(m)};
    refresh(one);
    std::size_t bytes = one[0].bytes();
    if (limits_.max_bytes > 0 && bytes_ + bytes > limits_.max_bytes) break;
    covered_after_ = one[0].id - 1;
    bytes_ += bytes;
    budget_.add(*this, bytes);
    entries_.push_front(std::move(one[0]));
  }
  budget_.enforce();
}

}  // namespace parley::chat
