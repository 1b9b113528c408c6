#include "store/room_ledger.h"

#include <algorithm>

#include "store/append_request.h"

namespace parley::store {
namespace {

constexpr const char* kSaveSql =
    "INSERT INTO rooms (room, last_id, messages, bytes) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id, messages = excluded.messages, "
    "bytes = excluded.bytes";

// Appends made after a room's row was written: ids above its last_id (see room_ledger.h).
const std::string kTailSql =
    std::string("SELECT count(*), coalesce(sum(") + kStoredBytesSql +
    "), 0), coalesce(max(id), 0) FROM messages WHERE room = ?1 AND id > ?2";

const RoomState kNoRoom{};

}  // namespace

Status RoomLedger::load(SqliteDatabase& db) {
  if (Status prepared = save_.prepare(db.handle(), kSaveSql); !prepared) return prepared;
  SqliteStatement select, tail;
  if (Status s = select.prepare(db.handle(), "SELECT room, last_id, messages, bytes FROM rooms");
      !s) {
    return s;
  }
  if (Status s = tail.prepare(db.handle(), kTailSql); !s) return s;
  for (;;) {
    Result<bool> row = select.next();
    if (!row) return with_context("cannot load the rooms", row.error());
    if (!*row) return {};
    std::string room = select.column_text(0);
    RoomState state{.last_id = static_cast<uint64_t>(select.column_int64(1)),
                    .messages = static_cast<uint64_t>(select.column_int64(2)),
                    .bytes = static_cast<uint64_t>(select.column_int64(3))};
    if (Status s = catch_up(tail, room, state); !s) return s;
    total_bytes_ += state.bytes;
    committed_.emplace(std::move(room), state);
  }
}

Status RoomLedger::catch_up(SqliteStatement& tail, const std::string& room, RoomState& state) {
  tail.bind(1, room);
  tail.bind(2, static_cast<int64_t>(state.last_id));
  Result<bool> row = tail.next();
  if (row && *row) {
    const auto count = static_cast<uint64_t>(tail.column_int64(0));
    if (count > 0) {
      state.messages += count;
      state.bytes += static_cast<uint64_t>(tail.column_int64(1));
      state.last_id = std::max(state.last_id, static_cast<uint64_t>(tail.column_int64(2)));
      unsaved_.insert(room);
    }
  }
  tail.reset();
  if (!row) return with_context("cannot count the latest messages of a room", row.error());
  return {};
}

const RoomState& RoomLedger::get(const std::string& room) const {
  if (auto it = pending_.find(room); it != pending_.end()) return it->second;
  if (auto it = committed_.find(room); it != committed_.end()) return it->second;
  return kNoRoom;
}

RoomState& RoomLedger::change(const std::string& room) {
  auto [it, inserted] = pending_.try_emplace(room);
  if (inserted) {
    if (auto c = committed_.find(room); c != committed_.end()) it->second = c->second;
  }
  return it->second;
}

Status RoomLedger::save(Save what) {
  for (const auto& [room, state] : pending_) {
    if (what == Save::kNewRooms && committed_.contains(room)) continue;
    if (Status s = write(room, state); !s) return s;
  }
  if (what == Save::kEverything) {
    for (const std::string& room : unsaved_) {
      if (pending_.contains(room)) continue;
      if (Status s = write(room, committed_.at(room)); !s) return s;
    }
  }
  return {};
}

Status RoomLedger::write(const std::string& room, const RoomState& state) {
  save_.bind(1, room);
  save_.bind(2, static_cast<int64_t>(state.last_id));
  save_.bind(3, static_cast<int64_t>(state.messages));
  save_.bind(4, static_cast<int64_t>(state.bytes));
  if (Status saved = save_.run(); !saved)
    return with_context("cannot save the rooms", saved.error());
  saved_pending_.insert(room);
  return {};
}

void RoomLedger::commit() {
  {
    std::lock_guard lock(committed_mutex_);
    for (auto& [room, state] : pending_) {
      RoomState& committed = committed_[room];
      total_bytes_ += state.bytes;
      total_bytes_ -= std::min(total_bytes_, committed.bytes);
      committed = state;
    }
  }
  for (const auto& [room, state] : pending_) {
    if (!saved_pending_.contains(room)) unsaved_.insert(room);
  }
  for (const std::string& room : saved_pending_) unsaved_.erase(room);
  pending_.clear();
  saved_pending_.clear();
}

void RoomLedger::rollback() {
  pending_.clear();
  saved_pending_.clear();
}

std::vector<std::pair<std::string, uint64_t>> RoomLedger::last_ids() const {
  std::vector<std::pair<std::string, uint64_t>> ids;
  {
    std::lock_guard lock(committed_mutex_);
    ids.reserve(committed_.size());
    for (const auto& [room, state] : committed_) ids.emplace_back(room, state.last_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace parley::store
