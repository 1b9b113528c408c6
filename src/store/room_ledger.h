// What the writer knows about every room, in memory and in the rooms table: the last id handed
// out (ids go on from it after a restart, even when every message was deleted), how many
// messages the room holds and what they weigh (stored_bytes), for retention and the cap.
//
// Transactions: a change made during a write transaction is pending until commit() (which
// makes it visible) or rollback() (which forgets it, so a failed batch leaves no gap in the
// ids and no drift in the sizes). save() writes the pending rooms inside the transaction, so the
// table and the memory agree after every commit.
//
// Threads: only the writer thread changes the ledger. last_ids() may be called from any thread
// (under a mutex that commit() also takes); everything else is the writer's alone.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"

namespace parley::store {

struct RoomState {
  uint64_t last_id = 0;   // ids 1..last_id were handed out
  uint64_t messages = 0;  // stored now (retention and the cap delete the oldest)
  uint64_t bytes = 0;     // sum of stored_bytes() of those messages
};

class RoomLedger {
 public:
  using Rooms = std::unordered_map<std::string, RoomState>;

  // Prepares the statement that saves rooms and loads every room from the table.
  Status load(SqliteDatabase& db);

  // The room as the transaction in progress sees it (a new room is all zeros).
  const RoomState& get(const std::string& room) const;
  // The same, to change: becomes part of the transaction in progress.
  RoomState& change(const std::string& room);

  // Writes every room changed in the transaction in progress to the rooms table.
  Status save();
  void commit();
  void rollback();

  // Committed rooms; writer thread only.
  const Rooms& committed() const { return committed_; }
  // Rooms changed by the transaction in progress.
  const Rooms& pending() const { return pending_; }
  // Sum of the committed rooms' bytes; writer thread only.
  uint64_t total_bytes() const { return total_bytes_; }
  // Every room's last id, sorted by room; any thread.
  std::vector<std::pair<std::string, uint64_t>> last_ids() const;

 private:
  Rooms committed_;
  Rooms pending_;
  uint64_t total_bytes_ = 0;
  mutable std::mutex committed_mutex_;  // for last_ids() from other threads
  SqliteStatement save_;
};

}  // namespace parley::store
