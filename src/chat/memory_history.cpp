#include "chat/memory_history.h"

#include <algorithm>
#include <chrono>

#include "base/wall_clock.h"
#include "text/unicode.h"

namespace parley::chat {
namespace {

// Index of the first entry with an id >= `id` in contiguous `entries`.
std::size_t index_of(const std::deque<Message>& entries, uint64_t id) {
  if (entries.empty() || id <= entries.front().id) return 0;
  return static_cast<std::size_t>(std::min<uint64_t>(id - entries.front().id, entries.size()));
}

// The newest `n` messages among entries[0, end), oldest first.
std::vector<Message> messages_before(const std::deque<Message>& entries, std::size_t end,
                                     std::size_t n) {
  std::vector<Message> out;
  for (std::size_t i = end; i > 0 && out.size() < n; --i) {
    if (entries[i - 1].is_message()) out.push_back(entries[i - 1]);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

Message* MemoryHistory::find(Room& room, uint64_t id) {
  if (room.entries.empty() || id < room.entries.front().id || id > room.last_id) return nullptr;
  return &room.entries[id - room.entries.front().id];
}

void MemoryHistory::append(const std::string& room_name, const Message& entry, AppendDone done) {
  Result<Appended> result = Appended{};
  std::vector<std::pair<std::string, uint64_t>> dropped;
  {
    std::lock_guard lock(mutex_);
    Room& room = rooms_[room_name];
    if (room.name.empty()) room.name = room_name;
    result = store(room, entry);
    dropped.swap(dropped_files_);
  }
  // The files of messages retention dropped: released outside the lock (the
  // file store has its own, and an unlink to make).
  for (const auto& [name, id] : dropped) options_.attachments->released(name, id);
  done(std::move(result));
}

Result<Appended> MemoryHistory::store(Room& room, const Message& entry) {
  if (!entry.client_id.empty()) {
    auto seen = room.by_client_id.find(dedup_key(entry));
    if (seen != room.by_client_id.end()) {
      const Message& original = *find(room, seen->second);
      return Appended{original.id, original.ts_ms, true, original.reply, original.count};
    }
  }
  Message stored = entry;
  stored.id = room.last_id + 1;
  stored.ts_ms = entry.ts_ms != 0 ? entry.ts_ms : unix_time_ms();
  if (stored.is_message() && stored.reply.id != 0) {
    const Message* target = find(room, stored.reply.id);
    if (target == nullptr || !target->is_message()) return refusal_error(Refusal::NotFound);
    stored.reply = quote_of(*target, options_.rules);
  } else if (!stored.is_message()) {
    Appended noop;
    Result<bool> changed = change(room, stored, noop);
    if (!changed) return std::move(changed).error();
    if (!*changed) return noop;
  }
  room.last_id = stored.id;
  Appended result{stored.id, stored.ts_ms, false, stored.reply, stored.count};
  if (!stored.client_id.empty()) room.by_client_id.emplace(dedup_key(stored), stored.id);
  std::size_t bytes = stored.bytes();
  room.entries.push_back(std::move(stored));
  resize(room, room.bytes + bytes);
  if (options_.retain_per_room > 0 && room.entries.size() > options_.retain_per_room) {
    drop_oldest(room);
  }
  while (options_.max_bytes > 0 && total_bytes_ > options_.max_bytes && !by_size_.empty()) {
    drop_oldest(*std::prev(by_size_.end())->second);
  }
  return result;
}

Result<bool> MemoryHistory::change(Room& room, Message& entry, Appended& noop) {
  Message* target = find(room, entry.target);
  Result<bool> allowed = check_change(target, entry, options_.rules);
  if (!allowed || !*allowed) {
    if (allowed) noop = Appended{target->id, target->ts_ms, true, {}, 0};
    return allowed;
  }
  std::size_t before = target->bytes();
  apply_change(*target, entry);
  resize(room, room.bytes - before + target->bytes());
  if (entry.kind == EntryKind::Delete) forget_quotes_of(room, target->id);
  return true;
}

void MemoryHistory::forget_quotes_of(Room& room, uint64_t id) {
  for (Message& m : room.entries) {
    if (!m.is_message() || m.reply.id != id || m.reply.deleted) continue;
    std::size_t before = m.bytes();
    forget_quote(m.reply);
    resize(room, room.bytes - before + m.bytes());
  }
}

void MemoryHistory::drop_oldest(Room& room) {
  const Message& oldest = room.entries.front();
  if (!oldest.client_id.empty()) room.by_client_id.erase(dedup_key(oldest));
  if (options_.attachments != nullptr && oldest.is_message() && !oldest.attachment.empty()) {
    dropped_files_.emplace_back(room.name, oldest.id);
  }
  std::size_t bytes = oldest.bytes();
  room.entries.pop_front();
  resize(room, room.bytes - bytes);
}

void MemoryHistory::resize(Room& room, std::size_t new_bytes) {
  if (room.bytes > 0) by_size_.erase({room.bytes, &room});
  total_bytes_ = total_bytes_ - room.bytes + new_bytes;
  room.bytes = new_bytes;
  if (room.bytes > 0) by_size_.insert({room.bytes, &room});
}

void MemoryHistory::read(const std::string& room_name, const PageQuery& query, PageDone done) {
  Page page;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room_name);
    if (it != rooms_.end()) page = page_of(it->second, query);
  }
  done(std::move(page));
}

Page MemoryHistory::page_of(const Room& room, const PageQuery& query) const {
  Page page;
  const auto& all = room.entries;
  if (all.empty()) return page;
  if (query.from == PageQuery::From::After) {
    std::size_t begin = index_of(all, query.anchor + 1);
    std::size_t end = begin + std::min(query.limit, all.size() - begin);
    page.truncated = end < all.size();
    page.messages.assign(all.begin() + static_cast<std::ptrdiff_t>(begin),
                         all.begin() + static_cast<std::ptrdiff_t>(end));
    return page;
  }
  std::size_t end = all.size();  // Newest
  std::size_t older = query.limit;
  if (query.from == PageQuery::From::Before) end = index_of(all, query.anchor);
  if (query.from == PageQuery::From::Around) {
    end = index_of(all, query.anchor + 1);
    older = query.limit - query.limit / 2;
  }
  page.messages = messages_before(all, end, older);
  if (query.from == PageQuery::From::Around) {
    for (std::size_t i = end, n = 0; i < all.size() && n < query.limit / 2; ++i) {
      if (!all[i].is_message()) continue;
      page.messages.push_back(all[i]);
      ++n;
    }
  }
  if (!page.messages.empty()) {
    page.truncated = page.messages.front().id > all.front().id;
    page.newer = query.from == PageQuery::From::Around && page.messages.back().id < room.last_id;
  }
  return page;
}

void MemoryHistory::search(const std::string& room_name, const SearchQuery& query,
                           SearchDone done) {
  Result<SearchPage> page = SearchPage{};
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room_name);
    if (it != rooms_.end()) page = search_in(it->second, query);
  }
  done(std::move(page));
}

SearchPage MemoryHistory::search_in(const Room& room, const SearchQuery& query) const {
  SearchPage page;
  Result<std::string> needle = unicode::casefold(query.text);
  if (!needle || needle->empty()) return page;
  const auto& all = room.entries;
  std::size_t i = query.before == 0 ? all.size() : index_of(all, query.before);
  for (; i > 0 && page.messages.size() < query.limit; --i) {
    const Message& m = all[i - 1];
    if (!m.is_message() || m.deleted) continue;
    Result<std::string> folded = unicode::casefold(m.text);
    if (folded && folded->find(*needle) != std::string::npos) page.messages.push_back(m);
  }
  if (i > 0) {
    page.truncated = true;
    page.next = all[i].id;
  }
  return page;
}

std::vector<std::pair<std::string, uint64_t>> MemoryHistory::last_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [name, room] : rooms_) out.emplace_back(name, room.last_id);
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t MemoryHistory::bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace parley::chat
