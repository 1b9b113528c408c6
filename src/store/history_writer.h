// The one thread that writes history: group commit, per-room id assignment, dedup, and between
// batches the upkeep (retention and the cap, the file watch, the size measurement).
// See history_store.h for the guarantees; this file is how they are kept.
//
// The loop: take what is queued (up to max_batch appends and max_batch_bytes, the rooms in turn:
// work_queue.h) and commit it in one transaction, run the callbacks, release the appends' bytes
// from the budgets, then do what upkeep is due, at most one bounded trimming step while appends
// wait (more while the queue is empty). Upkeep never shares a transaction with appends. The one
// step that runs before a batch's acknowledgements is the first of a retention pass that
// starts with that batch (once per retention_interval), so that an ack implies the room is
// within its bound, as it did when retention ran inside the batch's transaction.
//
// Failures: a failed transaction is rolled back whole and every append in it gets the error
// (see history_store.h, "Ids"). Each failure also re-checks the files: when history.sqlite3 or
// its -wal was removed or replaced, appends are refused with that reason (acknowledging into an
// unlinked file would be a lie) until the right file is back, checked before every batch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/append_request.h"
#include "store/history_store.h"
#include "store/history_trimmer.h"
#include "store/message_log_writer.h"
#include "store/room_ledger.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store/store_files.h"
#include "store/store_health.h"
#include "store/wal_checkpointer.h"
#include "store/work_queue.h"

namespace parley::store {

class HistoryWriter {
 public:
  // What the writer shares with the rest of the store; all outlive it.
  struct Shared {
    StoreHealth& health;
    StoreCounters& counters;
    WriterGate& gate;
  };

  // Takes over `db` (configured and migrated), prepares its statements, loads every room and
  // starts the writer thread. `files` are the files whose identity is watched.
  static Result<std::unique_ptr<HistoryWriter>> start(SqliteDatabase db,
                                                      const HistoryStore::Options& options,
                                                      Shared shared, FileWatch files);

  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;
  // stop(), then closes the connection (the last one: SQLite checkpoints and removes the WAL).
  ~HistoryWriter();

  // The writer's connection, for WalCheckpointer::attach_to_writer before appends start.
  SqliteDatabase& database() { return db_; }
  // Commits everything already queued (callbacks included), then joins the thread and detaches
  // the WAL hook. Later appends are refused as Closed. Idempotent.
  void stop();

  void append(AppendRequest request, HistoryStore::AppendDone done);
  void flush();
  std::size_t pending() const { return queue_.size(); }        // appends queued, not yet taken
  uint64_t pending_bytes() const { return queue_.charged(); }  // in flight: queued or in a batch
  std::vector<std::pair<std::string, uint64_t>> last_ids() const { return ledger_.last_ids(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct PendingAppend {
    AppendRequest request;
    HistoryStore::AppendDone done;
  };

  HistoryWriter(SqliteDatabase db, const HistoryStore::Options& options, Shared shared,
                FileWatch files);
  Status prepare();

  void run();
  // One batch: its transaction, then every callback (in queue order).
  void commit_batch(const std::vector<PendingAppend>& batch);
  Status write_batch(const std::vector<PendingAppend>& batch);
  Result<AppendResult> insert(const AppendRequest& request);
  // BEGIN, `body`, the ledger's rooms, COMMIT; on any failure ROLLBACK, the ledger forgets, the
  // failure is logged and the files are checked. Held back by the checkpointer's gate.
  template <typename Body>
  Status in_transaction(RoomLedger::Save rooms, Body&& body);
  // Every room's row when the periodic save is due, else only new rooms' (room_ledger.h).
  RoomLedger::Save rooms_to_save() const;

  // Between batches: the file watch and the size measurement when due, and one trimming step.
  void maintain();
  bool maintenance_due(Clock::time_point now) const;
  Clock::time_point next_wakeup() const;
  // Watched files still the ones we opened? Updates health; false when not.
  bool check_files();
  // Pages in use and in the file, for stats() and the cap.
  void measure();

  // Declared first so it is closed after the statements are finalized.
  SqliteDatabase db_;
  const HistoryStore::Options options_;
  StoreHealth& health_;
  StoreCounters& counters_;
  WriterGate& gate_;
  const FileWatch files_;
  SqliteStatement begin_;
  SqliteStatement commit_;
  SqliteStatement rollback_;
  SqliteStatement insert_;
  SqliteStatement page_count_;
  SqliteStatement freelist_count_;
  uint64_t page_size_ = 4096;

  RoomLedger ledger_;
  HistoryTrimmer trimmer_;
  LogWriter log_;  // changes and replies (message_log_writer.h)
  WorkQueue<PendingAppend> queue_;
  std::vector<AppendResult> results_;  // of the batch in progress

  bool files_ok_ = true;
  Status file_status_;  // why not, when !files_ok_
  Clock::time_point next_file_check_;
  Clock::time_point last_measure_;
  Clock::time_point maintenance_backoff_until_;  // after a failed trimming step
  Clock::time_point next_room_save_;

  // flush() waits until processed_ reaches the queue's pushed() count it read: processed_ is
  // the queue's taken_below() once the batch taken is done (appends leave in turn, not in
  // push order).
  std::mutex processed_mutex_;
  std::condition_variable processed_changed_;
  uint64_t processed_ = 0;

  std::thread thread_;
};

}  // namespace parley::store
