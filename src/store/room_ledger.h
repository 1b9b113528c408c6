// What the writer knows about every room, in memory and in the rooms table: the last id handed
// out (ids go on from it after a restart, even when every message was deleted), how many
// messages the room holds and what they weigh (stored_bytes), for retention and the cap.
//
// Transactions: a change made during a write transaction is pending until commit() (which
// makes it visible) or rollback() (which forgets it, so a failed batch leaves no gap in the
// ids and no drift in the sizes).
//
// Persistence: writing every touched room's row in every batch cost a b-tree update per room
// and batch (with 1000 busy rooms about one per message) and a dirty page per commit. Instead
// save() writes a room's row in its first transaction (so every room with messages has a row),
// in every transaction that deletes from it, and otherwise only when the writer asks for
// everything (about once a second, and at close). So a row is exact for the ids up to its
// last_id, and the messages with larger ids are appends made since, never deletions; after a
// crash load() adds those (one range of the (room, id) index per room). Ids stay gap-free and
// never reused either way.
//
// Threads: only the writer thread changes the ledger. last_ids() may be called from any thread
// (under a mutex that commit() also takes); everything else is the writer's alone.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

  // What save() writes: the rooms that have no row yet (a batch, normally), or every room
  // whose row is behind (a deletion, the periodic save, the close).
  enum class Save { kNewRooms, kEverything };

  // Prepares the statement that saves rooms and loads every room from the table, with what
  // was appended after its row was last written.
  Status load(SqliteDatabase& db);

  // The room as the transaction in progress sees it (a new room is all zeros).
  const RoomState& get(const std::string& room) const;
  // The same, to change: becomes part of the transaction in progress.
  RoomState& change(const std::string& room);

  // Writes rooms to the rooms table, inside the transaction in progress.
  Status save(Save what);
  // Some room's row is behind its state.
  bool has_unsaved() const { return !unsaved_.empty() || !pending_.empty(); }
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
  // Adds what was appended to `room` after its row was written (ids above its last_id).
  Status catch_up(SqliteStatement& tail, const std::string& room, RoomState& state);
  Status write(const std::string& room, const RoomState& state);

  Rooms committed_;
  Rooms pending_;
  std::unordered_set<std::string> unsaved_;        // committed rooms whose row is behind
  std::unordered_set<std::string> saved_pending_;  // rows written by this transaction
  uint64_t total_bytes_ = 0;
  mutable std::mutex committed_mutex_;  // for last_ids() from other threads
  SqliteStatement save_;
};

}  // namespace parley::store
