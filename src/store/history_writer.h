// The one thread that writes history: group commit, per-room id assignment, dedup, retention.
// See history_store.h for the guarantees; this file is how they are kept.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "store/append_request.h"
#include "store/history_store.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store/work_queue.h"

namespace parley::store {

class HistoryWriter {
 public:
  // Takes over `db` (configured and migrated), prepares its statements, loads every room's last
  // id and starts the writer thread.
  static std::variant<std::unique_ptr<HistoryWriter>, std::string> start(
      SqliteDatabase db, const HistoryStore::Options& options);

  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;
  // Commits everything already queued (callbacks included), then joins and closes.
  ~HistoryWriter();

  void append(AppendRequest request, HistoryStore::AppendDone done);
  void flush();
  std::vector<std::pair<std::string, uint64_t>> last_ids() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct PendingAppend {
    AppendRequest request;
    HistoryStore::AppendDone done;
  };

  HistoryWriter(SqliteDatabase db, const HistoryStore::Options& options);
  std::optional<std::string> prepare_statements();
  std::optional<std::string> load_last_ids();

  void run();
  // One transaction: every insert of `batch`, the rooms' new last ids and, when due, retention.
  // On any failure the whole transaction is rolled back and every result reports the error, so
  // no caller is told "stored" for something that is not.
  void write_batch(const std::vector<PendingAppend>& batch, std::vector<AppendResult>& results);
  std::optional<std::string> insert(const AppendRequest& request, AppendResult& result);
  std::optional<std::string> find_original(const AppendRequest& request, AppendResult& result);
  std::optional<std::string> save_last_ids();
  std::optional<std::string> apply_retention();
  // Deletes the oldest messages of `room` beyond retain_per_room (when it `grew` since the
  // last pass) and those older than `expired_before` (ms since the epoch).
  std::optional<std::string> trim_room(const std::string& room, bool grew, int64_t expired_before);
  // Raises `cut` (delete ids <= cut) past the room's expired prefix.
  std::optional<std::string> find_age_cut(const std::string& room, uint64_t last,
                                          int64_t expired_before, uint64_t& cut);

  uint64_t last_id(const std::string& room) const;
  bool retention_due(Clock::time_point now) const;
  Clock::time_point idle_retention_deadline() const;

  // Declared first so it is closed after the statements are finalized.
  SqliteDatabase db_;
  const HistoryStore::Options options_;
  SqliteStatement begin_;
  SqliteStatement commit_;
  SqliteStatement rollback_;
  SqliteStatement insert_;
  SqliteStatement find_original_;
  SqliteStatement save_last_id_;
  SqliteStatement trim_room_;
  SqliteStatement oldest_;
  SqliteStatement first_fresh_;

  WorkQueue<PendingAppend> queue_;

  // Last committed id per room. Only the writer thread changes it, under ids_mutex_ so that
  // last_ids() may read it from other threads; the writer itself reads it without the lock.
  std::unordered_map<std::string, uint64_t> committed_ids_;
  mutable std::mutex ids_mutex_;
  // Ids handed out by the transaction in progress: merged into committed_ids_ after COMMIT,
  // forgotten after ROLLBACK (so a failed batch leaves no gap).
  std::unordered_map<std::string, uint64_t> batch_ids_;
  // Rooms that grew since the last retention pass; every room right after open, in case
  // retain_per_room was lowered.
  std::unordered_set<std::string> rooms_to_trim_;
  Clock::time_point last_retention_;

  // flush() waits until processed_ reaches the queue's pushed() count it read.
  std::mutex processed_mutex_;
  std::condition_variable processed_changed_;
  uint64_t processed_ = 0;

  std::thread thread_;
};

}  // namespace parley::store
