// Deletes old messages so the history stays inside its bounds: retention (retain_per_room,
// retain_age) and the cap on the database (max_bytes). Runs on the writer thread, between
// batches, one bounded step at a time, each step inside a write transaction of its own
// (HistoryWriter::maintain): an append never waits behind more than one step.
//
// Every deletion removes a prefix of a room in id order (its oldest messages), so what remains
// of a room is contiguous and `truncated` keeps its meaning. The messages among them that show
// a file are collected (take_dropped_files) for the writer to hand to Options::files_dropped
// once the step's transaction has committed: the file store releases their files as it does
// for a deleted message, one rule whatever removed the message.
//
// Retention: a pass every retention_interval walks the rooms that may be over a bound (more
// than retain_per_room messages; with retain_age, every room that holds messages) and deletes
// their excess, resuming where the last step stopped. A pass starts with a batch of appends
// (its first step runs before that batch is acknowledged, see history_writer.h), or, for
// retain_age, once a second while idle. Between passes a room may exceed retain_per_room by
// what arrived in the meantime.
//
// The cap: when the pages in use (the database's pages minus its free list, measured by the
// writer after its transactions) pass max_bytes, steps delete the oldest messages of the
// largest rooms (by RoomState::bytes) until the pages in use are back under 90% of max_bytes,
// then stop (hysteresis: no step per append at the boundary). A step levels the largest rooms
// down toward the next largest, so one room that takes most of the space loses its history
// first, and many rooms of equal size lose theirs evenly. Freed pages go to SQLite's free list
// and new messages reuse them, so the file stops growing once the cap is reached; it does not
// shrink (no auto_vacuum: moving pages would cost every insert a pointer-map update; run VACUUM
// offline to give space back after lowering the cap). The file can pass max_bytes by what
// arrives while the steps catch up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/append_request.h"
#include "store/history_store.h"
#include "store/room_ledger.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"

namespace parley::store {

class HistoryTrimmer {
 public:
  using Clock = std::chrono::steady_clock;
  // What one step deleted, counted once its transaction commits.
  struct Deleted {
    uint64_t by_retention = 0;
    uint64_t by_cap = 0;
  };
  // Bounds on one step, so that an append arriving meanwhile waits little.
  static constexpr uint64_t kMaxDeletesPerStep = 1000;
  static constexpr std::size_t kMaxRoomsPerStep = 256;

  HistoryTrimmer(const HistoryStore::Options& options, RoomLedger& rooms);
  Status prepare(SqliteDatabase& db);

  // The writer committed a batch of appends. True when a retention pass is due: the next step()
  // starts it (only rooms that grew can pass retain_per_room, so count retention runs with
  // appends, not while idle).
  bool batch_committed(Clock::time_point now);
  // The writer measured the database: `used_bytes` of its pages are in use.
  void measured(uint64_t used_bytes);

  // Whether step() has work now; when it next may have (for the writer's idle wait).
  bool has_work(Clock::time_point now) const;
  Clock::time_point next_due() const;

  // One bounded step, inside the caller's transaction.
  Result<Deleted> step(Clock::time_point now);
  // The messages with a file that the steps since the last call deleted; the caller drops them
  // when the transaction rolled back.
  std::vector<FileRef> take_dropped_files() { return std::exchange(dropped_files_, {}); }

 private:
  bool retention_enabled() const;
  // A pass may start: retention is on, none is in progress, the interval is up.
  bool pass_may_start(Clock::time_point now) const;
  // The pass due without appends: age retention, at most once a second.
  bool idle_pass_due(Clock::time_point now) const;

  bool cap_active() const;
  void start_pass(Clock::time_point now);
  Status retention_step(Deleted& deleted);
  Status cap_step(Deleted& deleted);
  // Deletes what retention wants gone from the oldest messages of `room`, at most `budget`;
  // returns how many it deleted (fewer than `budget` means the room is within its bounds).
  Result<uint64_t> trim_room(const std::string& room, uint64_t budget, int64_t expired_before);
  // The id of the room's oldest message, or 0 when it holds none.
  Result<uint64_t> first_id(const std::string& room);
  // The last expired id in [first, window_end] (the prefix older than expired_before).
  Result<uint64_t> age_cut(const std::string& room, uint64_t first, uint64_t window_end,
                           int64_t expired_before);
  // Deletes every message of `room` with id <= cut and updates the ledger; returns how many.
  Result<uint64_t> delete_through(const std::string& room, uint64_t cut);

  const HistoryStore::Options options_;
  RoomLedger& rooms_;
  SqliteStatement first_id_;
  SqliteStatement first_fresh_;
  SqliteStatement weigh_through_;
  SqliteStatement delete_through_;
  SqliteStatement files_through_;
  std::vector<FileRef> dropped_files_;

  // Retention: the rooms of the pass in progress and the next one to look at.
  std::vector<std::string> pass_rooms_;
  std::size_t pass_next_ = 0;
  Clock::time_point last_pass_;
  bool pass_requested_ = false;  // by batch_committed()
  int64_t pass_expired_before_ = 0;

  // The cap: pages in use as last measured, and whether a trimming episode is on.
  uint64_t used_bytes_ = 0;
  bool over_cap_ = false;
};

}  // namespace parley::store
