#include "store/room_ledger.h"

#include <algorithm>

namespace parley::store {
namespace {

constexpr const char* kSaveSql =
    "INSERT INTO rooms (room, last_id, messages, bytes) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id, messages = excluded.messages, "
    "bytes = excluded.bytes";

const RoomState kNoRoom{};

}  // namespace

Status RoomLedger::load(SqliteDatabase& db) {
  if (Status prepared = save_.prepare(db.handle(), kSaveSql); !prepared) return prepared;
  SqliteStatement select;
  Status prepared = select.prepare(db.handle(), "SELECT room, last_id, messages, bytes FROM rooms");
  if (!prepared) return prepared;
  for (;;) {
    Result<bool> row = select.next();
    if (!row) return with_context("cannot load the rooms", row.error());
    if (!*row) return {};
    RoomState state{.last_id = static_cast<uint64_t>(select.column_int64(1)),
                    .messages = static_cast<uint64_t>(select.column_int64(2)),
                    .bytes = static_cast<uint64_t>(select.column_int64(3))};
    total_bytes_ += state.bytes;
    committed_.emplace(select.column_text(0), state);
  }
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

Status RoomLedger::save() {
  for (const auto& [room, state] : pending_) {
    save_.bind(1, room);
    save_.bind(2, static_cast<int64_t>(state.last_id));
    save_.bind(3, static_cast<int64_t>(state.messages));
    save_.bind(4, static_cast<int64_t>(state.bytes));
    if (Status saved = save_.run(); !saved)
      return with_context("cannot save the rooms", saved.error());
  }
  return {};
}

void RoomLedger::commit() {
  std::lock_guard lock(committed_mutex_);
  for (auto& [room, state] : pending_) {
    RoomState& committed = committed_[room];
    total_bytes_ += state.bytes;
    total_bytes_ -= std::min(total_bytes_, committed.bytes);
    committed = state;
  }
  pending_.clear();
}

void RoomLedger::rollback() {
  pending_.clear();
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
