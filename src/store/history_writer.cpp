#include "store/history_writer.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>

#include "base/wall_clock.h"

namespace parley::store {
namespace {

// IMMEDIATE: take the write lock when the batch starts, not halfway through it, so a busy
// database (another process' backup) is waited for by busy_timeout up front.
constexpr const char* kBeginSql = "BEGIN IMMEDIATE";
constexpr const char* kInsertSql =
    "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
// The `client_id <> ''` term repeats the index's WHERE clause; without it SQLite may not use
// the partial index.

// Without a cap the database's size (two PRAGMAs that read page 1) is measured for stats() at
// most this often; with one, after every transaction.
constexpr auto kMeasureEvery = std::chrono::milliseconds(10);
// After a failed trimming step, the next one waits this long (no loop of failing deletes).
constexpr auto kMaintenanceBackoff = std::chrono::seconds(1);
// How stale the rooms table may get (room_ledger.h, "Persistence").
constexpr auto kRoomSaveEvery = std::chrono::seconds(1);

}  // namespace

Result<std::unique_ptr<HistoryWriter>> HistoryWriter::start(SqliteDatabase db,
                                                            const HistoryStore::Options& options,
                                                            Shared shared, FileWatch files) {
  std::unique_ptr<HistoryWriter> writer(
      new HistoryWriter(std::move(db), options, shared, std::move(files)));
  if (Status prepared = writer->prepare(); !prepared) return prepared.error();
  writer->measure();
  writer->thread_ = std::thread(&HistoryWriter::run, writer.get());
  // Named for top -H, perf and gdb.
  pthread_setname_np(writer->thread_.native_handle(), "store-writer");
  return writer;
}

HistoryWriter::HistoryWriter(SqliteDatabase db, const HistoryStore::Options& options, Shared shared,
                             FileWatch files)
    : db_(std::move(db)),
      options_(options),
      health_(shared.health),
      counters_(shared.counters),
      gate_(shared.gate),
      files_(std::move(files)),
      trimmer_(options, ledger_),
      log_(options_),
      queue_({.items = options.max_pending_appends,
              .bytes = options.max_pending_bytes,
              .key_bytes = options.max_pending_room_bytes}),
      next_file_check_(Clock::now() + options.file_check_interval) {}

HistoryWriter::~HistoryWriter() {
  stop();
}

void HistoryWriter::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
  sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
}

Status HistoryWriter::prepare() {
  const std::pair<SqliteStatement*, const char*> statements[] = {
      {&begin_, kBeginSql},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_, kInsertSql},
      {&page_count_, "PRAGMA page_count"},
      {&freelist_count_, "PRAGMA freelist_count"},
  };
  for (auto [statement, sql] : statements) {
    if (Status prepared = statement->prepare(db_.handle(), sql); !prepared) return prepared;
  }
  Result<int64_t> page_size = db_.query_int64("PRAGMA page_size");
  if (!page_size) return with_context("cannot read the page size", page_size.error());
  page_size_ = static_cast<uint64_t>(*page_size);
  if (Status prepared = trimmer_.prepare(db_); !prepared) return prepared;
  if (Status prepared = log_.prepare(db_.handle()); !prepared) return prepared;
  return ledger_.load(db_);
}

namespace {

Error overloaded(HistoryStore::OverloadKind kind, std::string message) {
  Error error(Errc::Overloaded, "history store: overloaded (" + message + ")");
  error.detail = static_cast<unsigned char>(kind);
  return error;
}

}  // namespace

void HistoryWriter::append(AppendRequest request, HistoryStore::AppendDone done) {
  using Push = WorkQueue<PendingAppend>::PushResult;
  using Kind = HistoryStore::OverloadKind;
  const std::string room = request.room;
  PendingAppend pending{std::move(request), std::move(done)};
  Error refused;
  switch (queue_.push(room, 0, stored_bytes(pending.request), std::move(pending))) {
    case Push::kQueued:
      return;
    case Push::kFull:
      refused = overloaded(Kind::kQueueFull, std::to_string(options_.max_pending_appends) +
                                                 " appends already waiting for the disk");
      break;
    case Push::kKeyOverBudget:
      refused = overloaded(Kind::kRoomBytes, "the room has " +
                                                 std::to_string(options_.max_pending_room_bytes) +
                                                 " bytes waiting for the disk");
      break;
    case Push::kOverBudget:
      refused = overloaded(Kind::kBytes, std::to_string(options_.max_pending_bytes) +
                                             " bytes already waiting for the disk");
      break;
    case Push::kClosed:
      refused = Error(Errc::Closed, "history store: closed");
      break;
  }
  StoreCounters::add(counters_.appends_refused, 1);
  if (refused.code == Errc::Overloaded &&
      refused.detail != static_cast<unsigned char>(Kind::kQueueFull)) {
    // A budget: the room (or every room) is sending faster than the disk takes it. Not a
    // failure of the store, so health is not told.
    StoreCounters::add(counters_.appends_over_budget, 1);
  } else {
    health_.refused(refused);
  }
  if (pending.done) pending.done(std::move(refused));
}

void HistoryWriter::flush() {
  // From a callback this would wait for the very thread that is running it.
  assert(std::this_thread::get_id() != thread_.get_id());
  // Every append pushed before this count; they leave in turn, so processed_ is the count below
  // which all are done (taken_below()), not how many were processed.
  const uint64_t target = queue_.pushed();
  std::unique_lock lock(processed_mutex_);
  processed_changed_.wait(lock, [&] { return processed_ >= target; });
}

void HistoryWriter::run() {
  std::vector<PendingAppend> batch;
  // Taking everything that queued up while the previous transaction committed is the group
  // commit: the busier the store, the bigger the batches, the fewer commits per message.
  Clock::time_point last_batch = Clock::time_point::min();
  auto weight = [](const PendingAppend& p) { return stored_bytes(p.request); };
  while (queue_.pop_batch(batch, options_.max_batch, options_.max_batch_bytes, weight,
                          next_wakeup(), last_batch + options_.commit_interval)) {
    if (!batch.empty()) {
      last_batch = Clock::now();
      commit_batch(batch);
      // Answered: out of the budgets (work_queue.h).
      for (const PendingAppend& pending : batch) {
        queue_.release(pending.request.room, stored_bytes(pending.request));
      }
    }
    // One step of upkeep between batches; more while nothing waits. Counted as processed
    // after it, so flush() also sees the retention due after its appends (tests rely on it).
    maintain();
    while (maintenance_due(Clock::now()) && queue_.idle()) maintain();
    {
      std::lock_guard lock(processed_mutex_);
      processed_ = queue_.taken_below();
    }
    processed_changed_.notify_all();
  }
  // Closing: the rooms table catches up, so the next open has nothing to count.
  if (files_ok_ && ledger_.has_unsaved()) {
    (void)in_transaction(RoomLedger::Save::kEverything, [] { return Status(); });
  }
}

void HistoryWriter::commit_batch(const std::vector<PendingAppend>& batch) {
  // While a watched file is wrong nothing is written: the reason goes to every append.
  Status status = file_status_;
  if (files_ok_ || check_files()) {
    status = in_transaction(rooms_to_save(), [&] { return write_batch(batch); });
  }
  if (status) {
    uint64_t duplicates = 0;
    for (const AppendResult& r : results_) duplicates += r.duplicate ? 1 : 0;
    StoreCounters::add(counters_.appends_committed, batch.size() - duplicates);
    StoreCounters::add(counters_.appends_duplicate, duplicates);
    // A retention pass that starts now takes its first step before these acks go out, so a
    // client that reads right after its ack sees the room within its bound (as when retention
    // ran inside the batch's transaction). Once per retention_interval, one bounded step.
    if (trimmer_.batch_committed(Clock::now())) maintain();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(results_[i]);
    }
    return;
  }
  StoreCounters::add(counters_.append_errors, batch.size());
  for (const PendingAppend& pending : batch) {
    if (pending.done) pending.done(status.error());
  }
}

Status HistoryWriter::write_batch(const std::vector<PendingAppend>& batch) {
  results_.clear();
  for (const PendingAppend& pending : batch) {
    Result<AppendResult> result = insert(pending.request);
    if (!result) return std::move(result).error();
    results_.push_back(*result);
  }
  return {};
}

Result<AppendResult> HistoryWriter::insert(const AppendRequest& request) {
  const int64_t ts_ms = request.ts_ms != 0 ? request.ts_ms : unix_time_ms();
  // Changes of a message and replies: checked and applied in this transaction (issue 10).
  if (LogWriter::handles(request)) return log_.insert(request, ts_ms, ledger_);
  const uint64_t id = ledger_.get(request.room).last_id + 1;
  bind_message_columns(insert_, request, id, ts_ms);
  const int rc = insert_.step();
  if (rc == SQLITE_DONE) {
    insert_.reset();
    RoomState& room = ledger_.change(request.room);
    room.last_id = id;
    room.messages += 1;
    room.bytes += stored_bytes(request);
    return AppendResult{.id = id, .ts_ms = ts_ms};
  }
  Error error = insert_.error(rc);
  // Only this statement is undone (ON CONFLICT ABORT); the batch's transaction goes on.
  insert_.reset();
  if (rc == SQLITE_CONSTRAINT_UNIQUE && !request.client_id.empty()) {
    // The original may be a reply or a change: answered with its quote or count.
    Result<std::optional<AppendResult>> original = log_.find_original(request);
    if (!original) return std::move(original).error();
    if (*original) return **original;
    return Error(Errc::Internal, "duplicate client_id but no original message found");
  }
  return error;
}

RoomLedger::Save HistoryWriter::rooms_to_save() const {
  return Clock::now() >= next_room_save_ ? RoomLedger::Save::kEverything
                                         : RoomLedger::Save::kNewRooms;
}

template <typename Body>
Status HistoryWriter::in_transaction(RoomLedger::Save rooms, Body&& body) {
  gate_.enter();
  Status status = begin_.run();
  if (status) status = body();
  if (status) status = ledger_.save(rooms);
  if (status) status = commit_.run();
  if (status) {
    ledger_.commit();
  } else {
    // Fails harmlessly when SQLite already rolled back (e.g. after SQLITE_FULL).
    (void)rollback_.run();
    ledger_.rollback();
  }
  gate_.leave();
  if (status) {
    if (rooms == RoomLedger::Save::kEverything) next_room_save_ = Clock::now() + kRoomSaveEvery;
    StoreCounters::add(counters_.transactions, 1);
    health_.succeeded(StoreHealth::Source::kWrite);
    // With a cap, after every transaction: the cap must see each batch's growth. Without one
    // the size is only for stats().
    if (options_.max_bytes > 0 || Clock::now() - last_measure_ >= kMeasureEvery) measure();
    return status;
  }
  Error error = with_context("history store: write failed", status.error());
  health_.failed(StoreHealth::Source::kWrite, error);
  check_files();
  return error;
}

void HistoryWriter::maintain() {
  const Clock::time_point now = Clock::now();
  if (now >= next_file_check_) check_files();
  if (now - last_measure_ >= kMeasureEvery) measure();
  if (!files_ok_) return;
  if (now >= next_room_save_ && ledger_.has_unsaved() && now >= maintenance_backoff_until_) {
    if (!in_transaction(RoomLedger::Save::kEverything, [] { return Status(); })) {
      maintenance_backoff_until_ = now + kMaintenanceBackoff;
    }
  }
  if (!maintenance_due(now)) return;
  HistoryTrimmer::Deleted deleted;
  Status status = in_transaction(RoomLedger::Save::kEverything, [&]() -> Status {
    Result<HistoryTrimmer::Deleted> step = trimmer_.step(now);
    if (!step) return std::move(step).error();
    deleted = *step;
    return {};
  });
  // Their files are released once the deletion is durable (history_trimmer.h).
  std::vector<FileRef> dropped_files = trimmer_.take_dropped_files();
  if (!status) {
    maintenance_backoff_until_ = now + kMaintenanceBackoff;
    return;
  }
  if (!dropped_files.empty() && options_.files_dropped) {
    options_.files_dropped(std::move(dropped_files));
  }
  StoreCounters::add(counters_.deleted_by_retention, deleted.by_retention);
  StoreCounters::add(counters_.deleted_by_cap, deleted.by_cap);
  // The search index gives back the space of what was deleted (message_log_writer.h).
  if (deleted.by_retention + deleted.by_cap > 0 &&
      !in_transaction(RoomLedger::Save::kNewRooms, [&] { return log_.compact_index(); })) {
    maintenance_backoff_until_ = now + kMaintenanceBackoff;
  }
}

bool HistoryWriter::maintenance_due(Clock::time_point now) const {
  return now >= maintenance_backoff_until_ && trimmer_.has_work(now);
}

HistoryWriter::Clock::time_point HistoryWriter::next_wakeup() const {
  Clock::time_point next = std::min(next_file_check_, trimmer_.next_due());
  if (ledger_.has_unsaved()) next = std::min(next, next_room_save_);
  return std::max(next, maintenance_backoff_until_);
}

bool HistoryWriter::check_files() {
  next_file_check_ = Clock::now() + options_.file_check_interval;
  Status status = files_.check();
  files_ok_ = status.ok();
  if (files_ok_) {
    file_status_ = Status();
    health_.succeeded(StoreHealth::Source::kFile);
  } else {
    file_status_ = with_context("history store", status.error());
    health_.failed(StoreHealth::Source::kFile, file_status_.error());
  }
  return files_ok_;
}

void HistoryWriter::measure() {
  last_measure_ = Clock::now();
  Result<bool> pages = page_count_.next();
  const auto page_count = static_cast<uint64_t>(pages && *pages ? page_count_.column_int64(0) : 0);
  page_count_.reset();
  Result<bool> free_pages = freelist_count_.next();
  const auto freelist =
      static_cast<uint64_t>(free_pages && *free_pages ? freelist_count_.column_int64(0) : 0);
  freelist_count_.reset();
  if (!pages || !free_pages) return;  // a read of page 1 failed: the next write will say why
  const uint64_t used = (page_count - std::min(page_count, freelist)) * page_size_;
  StoreCounters::set(counters_.database_bytes, page_count * page_size_);
  StoreCounters::set(counters_.used_bytes, used);
  trimmer_.measured(used);
}

}  // namespace parley::store
