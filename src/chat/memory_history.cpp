#include "chat/memory_history.h"

#include <algorithm>
#include <chrono>

namespace parley::chat {
namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void MemoryHistory::append(const std::string& room_name, const Message& message, AppendDone done) {
  Appended result;
  {
    std::lock_guard lock(mutex_);
    Room& room = rooms_[room_name];
    if (room.name.empty()) room.name = room_name;
    if (!message.client_id.empty()) {
      auto seen = room.by_client_id.find(dedup_key(message));
      if (seen != room.by_client_id.end()) {
        const Message& original = room.messages[seen->second - room.messages.front().id];
        result = Appended{original.id, original.ts_ms, true};
      }
    }
    if (!result.duplicate) {
      Message stored = message;
      stored.id = ++room.last_id;
      stored.ts_ms = message.ts_ms != 0 ? message.ts_ms : now_ms();
      result = Appended{stored.id, stored.ts_ms, false};
      if (!stored.client_id.empty()) room.by_client_id.emplace(dedup_key(stored), stored.id);
      std::size_t bytes = stored.bytes();
      room.messages.push_back(std::move(stored));
      resize(room, room.bytes + bytes);
      if (options_.retain_per_room > 0 && room.messages.size() > options_.retain_per_room) {
        drop_oldest(room);
      }
      while (options_.max_bytes > 0 && total_bytes_ > options_.max_bytes && !by_size_.empty()) {
        drop_oldest(*std::prev(by_size_.end())->second);
      }
    }
  }
  done(result);
}

void MemoryHistory::drop_oldest(Room& room) {
  const Message& oldest = room.messages.front();
  if (!oldest.client_id.empty()) room.by_client_id.erase(dedup_key(oldest));
  std::size_t bytes = oldest.bytes();
  room.messages.pop_front();
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
  const auto& all = room.messages;
  if (all.empty()) return page;
  const uint64_t first = all.front().id;
  // Index range [begin, end) of the messages the query is about.
  std::size_t begin = 0, end = all.size();
  if (query.from == PageQuery::From::Before) {
    end = query.anchor <= first
              ? 0
              : static_cast<std::size_t>(std::min<uint64_t>(query.anchor - first, all.size()));
  } else if (query.from == PageQuery::From::After) {
    begin =
        query.anchor < first
            ? 0
            : static_cast<std::size_t>(std::min<uint64_t>(query.anchor - first + 1, all.size()));
  }
  std::size_t n = std::min(query.limit, end - std::min(begin, end));
  if (query.from == PageQuery::From::After) {
    end = begin + n;
    page.truncated = end < all.size();
  } else {
    begin = end - n;
    page.truncated = begin > 0;
  }
  page.messages.assign(all.begin() + static_cast<std::ptrdiff_t>(begin),
                       all.begin() + static_cast<std::ptrdiff_t>(end));
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
