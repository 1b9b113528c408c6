// History kept in memory only (--history off, and tests): nothing survives a
// restart, but within a run it keeps every promise of chat/history.h, dedup,
// the change rules and search included, so the chat core has one code path
// whatever the backend.
//
// Bounded twice: at most `retain_per_room` entries per room, and at most
// `max_bytes` in all; past the byte budget the oldest entries of the largest
// room go first (the same rule as --history-max-bytes for SQLite). A room's
// last id is remembered after its entries are gone, so ids never repeat.
// A message that either bound removes takes its file with it: its
// attachment is released (chat/attachment.h) after the lock is let go, as
// SQLite's retention does (store/history_trimmer.h) and as a delete does.
//
// One mutex guards everything: appends come from the rooms' home loops (a
// few threads), each holding it for a deque push and a hash insert; a change
// also finds its target by index (ids are contiguous), a delete scans the
// room for replies quoting it, and a search scans the room's messages
// (O(room), a few hundred entries at the default retention). Callbacks run
// on the caller's thread before append/read/search return.
#pragma once

#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/attachment.h"
#include "chat/history.h"

namespace parley::chat {

class MemoryHistory final : public History {
 public:
  struct Options {
    std::size_t retain_per_room = 256;  // 0 = no count limit
    std::size_t max_bytes = 64 << 20;   // 0 = no byte limit
    ChangeRules rules{};
    Attachments* attachments = nullptr;  // told of messages with a file that retention drops
  };
  explicit MemoryHistory(Options options) : options_(options) {}

  void append(const std::string& room, const Message& entry, AppendDone done) override;
  void read(const std::string& room, const PageQuery& query, PageDone done) override;
  void search(const std::string& room, const SearchQuery& query, SearchDone done) override;
  std::vector<std::pair<std::string, uint64_t>> last_ids() const override;
  Status health() const override { return {}; }

  std::size_t bytes() const;

 private:
  struct Room {
    std::string name;
    uint64_t last_id = 0;
    std::deque<Message> entries;  // ascending, contiguous ids ending at last_id
    std::unordered_map<std::string, uint64_t> by_client_id;  // user '\n' client_id -> id
    std::size_t bytes = 0;
  };
  using BySize = std::set<std::pair<std::size_t, Room*>>;

  static std::string dedup_key(const Message& m) { return m.user + '\n' + m.client_id; }
  static Message* find(Room& room, uint64_t id);
  Result<Appended> store(Room& room, const Message& entry);
  // Checks and applies a change to its target (and, for a delete, to the
  // quotes of it); the entry's count is filled. False: a no-op.
  Result<bool> change(Room& room, Message& entry, Appended& noop);
  void forget_quotes_of(Room& room, uint64_t id);
  void drop_oldest(Room& room);
  void resize(Room& room, std::size_t new_bytes);
  Page page_of(const Room& room, const PageQuery& query) const;
  SearchPage search_in(const Room& room, const SearchQuery& query) const;

  const Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Room> rooms_;
  BySize by_size_;  // rooms holding entries, by bytes: the largest is evicted first
  std::size_t total_bytes_ = 0;
  std::vector<std::pair<std::string, uint64_t>> dropped_files_;  // (room, id), to release
};

}  // namespace parley::chat
