#include "store/history_writer.h"

#include <algorithm>
#include <cassert>

namespace parley::store {
namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// IMMEDIATE: take the write lock when the batch starts, not halfway through it, so a busy
// database (another process' checkpoint or backup) is waited for by busy_timeout up front.
constexpr const char* kBeginSql = "BEGIN IMMEDIATE";
constexpr const char* kInsertSql =
    "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
// The `client_id <> ''` term repeats the index's WHERE clause; without it SQLite may not use
// the partial index.
constexpr const char* kFindOriginalSql =
    "SELECT id, ts_ms FROM messages "
    "WHERE room = ?1 AND user_id = ?2 AND client_id = ?3 AND client_id <> ''";
constexpr const char* kSaveLastIdSql =
    "INSERT INTO rooms (room, last_id) VALUES (?1, ?2) "
    "ON CONFLICT (room) DO UPDATE SET last_id = excluded.last_id";
// Retention only ever removes the oldest messages of a room (a prefix in id order), so what
// remains is contiguous and `truncated` keeps its meaning. Ids are gap-free, so "keep the
// newest N" is one range delete on the primary key.
constexpr const char* kTrimRoomSql = "DELETE FROM messages WHERE room = ?1 AND id <= ?2";
// Age: the oldest message left after the count cut, and, when that one has expired, the first
// one that has not. Timestamps rise with ids, so this reads only rows about to be deleted.
constexpr const char* kOldestSql =
    "SELECT ts_ms FROM messages WHERE room = ?1 AND id > ?2 ORDER BY id LIMIT 1";
constexpr const char* kFirstFreshSql =
    "SELECT id FROM messages WHERE room = ?1 AND id > ?2 AND ts_ms >= ?3 ORDER BY id LIMIT 1";

}  // namespace

std::variant<std::unique_ptr<HistoryWriter>, std::string> HistoryWriter::start(
    SqliteDatabase db, const HistoryStore::Options& options) {
  std::unique_ptr<HistoryWriter> writer(new HistoryWriter(std::move(db), options));
  if (auto error = writer->prepare_statements()) return *error;
  if (auto error = writer->load_last_ids()) return *error;
  writer->thread_ = std::thread(&HistoryWriter::run, writer.get());
  return writer;
}

HistoryWriter::HistoryWriter(SqliteDatabase db, const HistoryStore::Options& options)
    : db_(std::move(db)),
      options_(options),
      queue_(options.max_pending_appends),
      last_retention_(Clock::now()) {}

HistoryWriter::~HistoryWriter() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> HistoryWriter::prepare_statements() {
  const std::pair<SqliteStatement*, const char*> statements[] = {
      {&begin_, kBeginSql},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_, kInsertSql},
      {&find_original_, kFindOriginalSql},
      {&save_last_id_, kSaveLastIdSql},
      {&trim_room_, kTrimRoomSql},
      {&oldest_, kOldestSql},
      {&first_fresh_, kFirstFreshSql},
  };
  for (auto [statement, sql] : statements) {
    if (auto error = statement->prepare(db_.handle(), sql)) return "cannot prepare: " + *error;
  }
  return std::nullopt;
}

std::optional<std::string> HistoryWriter::load_last_ids() {
  SqliteStatement select;
  if (auto error = select.prepare(db_.handle(), "SELECT room, last_id FROM rooms")) return error;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    std::string room = select.column_text(0);
    committed_ids_[room] = static_cast<uint64_t>(select.column_int64(1));
    rooms_to_trim_.insert(std::move(room));
  }
  if (rc != SQLITE_DONE) return "cannot load the rooms' last ids: " + select.last_error();
  return std::nullopt;
}

void HistoryWriter::append(AppendRequest request, HistoryStore::AppendDone done) {
  PendingAppend pending{std::move(request), std::move(done)};
  switch (queue_.push(std::move(pending))) {
    case WorkQueue<PendingAppend>::PushResult::kQueued:
      return;
    case WorkQueue<PendingAppend>::PushResult::kFull:
      if (pending.done) {
        pending.done(AppendResult{.error = "history store: overloaded (" +
                                           std::to_string(options_.max_pending_appends) +
                                           " appends already waiting for the disk)"});
      }
      return;
    case WorkQueue<PendingAppend>::PushResult::kClosed:
      if (pending.done) pending.done(AppendResult{.error = "history store: closed"});
      return;
  }
}

void HistoryWriter::flush() {
  // From a callback this would wait for the very thread that is running it.
  assert(std::this_thread::get_id() != thread_.get_id());
  const uint64_t target = queue_.pushed();
  std::unique_lock lock(processed_mutex_);
  processed_changed_.wait(lock, [&] { return processed_ >= target; });
}

std::vector<std::pair<std::string, uint64_t>> HistoryWriter::last_ids() const {
  std::vector<std::pair<std::string, uint64_t>> ids;
  {
    std::lock_guard lock(ids_mutex_);
    ids.assign(committed_ids_.begin(), committed_ids_.end());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void HistoryWriter::run() {
  std::vector<PendingAppend> batch;
  std::vector<AppendResult> results;
  // Taking everything that queued up while the previous transaction committed is the group
  // commit: the busier the store, the bigger the batches, the fewer commits per message.
  while (queue_.pop_batch(batch, options_.max_batch, idle_retention_deadline())) {
    if (batch.empty() && Clock::now() < idle_retention_deadline()) continue;
    write_batch(batch, results);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(results[i]);
    }
    {
      std::lock_guard lock(processed_mutex_);
      processed_ += batch.size();
    }
    processed_changed_.notify_all();
  }
}

void HistoryWriter::write_batch(const std::vector<PendingAppend>& batch,
                                std::vector<AppendResult>& results) {
  results.assign(batch.size(), AppendResult{});
  batch_ids_.clear();
  const Clock::time_point now = Clock::now();
  const bool trim = retention_due(now) || batch.empty();

  std::optional<std::string> error = begin_.run();
  for (std::size_t i = 0; i < batch.size() && !error; ++i) {
    error = insert(batch[i].request, results[i]);
  }
  if (!error) error = save_last_ids();
  if (!error && trim) {
    last_retention_ = now;
    error = apply_retention();
  }
  if (!error) error = commit_.run();

  if (error) {
    // Fails harmlessly when SQLite already rolled back (e.g. after SQLITE_FULL).
    rollback_.run();
    for (AppendResult& result : results) {
      result = AppendResult{.error = "history store: write failed: " + *error};
    }
    return;
  }
  {
    std::lock_guard lock(ids_mutex_);
    for (const auto& [room, id] : batch_ids_) committed_ids_[room] = id;
  }
  if (trim) {
    rooms_to_trim_.clear();
  } else {
    for (const auto& [room, id] : batch_ids_) rooms_to_trim_.insert(room);
  }
}

std::optional<std::string> HistoryWriter::insert(const AppendRequest& request,
                                                 AppendResult& result) {
  const int64_t ts_ms = request.ts_ms != 0 ? request.ts_ms : wall_clock_ms();
  const uint64_t id = last_id(request.room) + 1;
  insert_.bind(1, request.room);
  insert_.bind(2, static_cast<int64_t>(id));
  insert_.bind(3, ts_ms);
  insert_.bind(4, request.user_id);
  insert_.bind(5, request.sender_name);
  insert_.bind(6, request.client_id);
  insert_.bind(7, request.text);
  const int rc = insert_.step();
  if (rc == SQLITE_DONE) {
    insert_.reset();
    batch_ids_[request.room] = id;
    result = AppendResult{.ok = true, .id = id, .ts_ms = ts_ms};
    return std::nullopt;
  }
  std::string error = insert_.last_error();
  // Only this statement is undone (ON CONFLICT ABORT); the batch's transaction goes on.
  insert_.reset();
  if (rc == SQLITE_CONSTRAINT_UNIQUE && !request.client_id.empty()) {
    return find_original(request, result);
  }
  return error;
}

std::optional<std::string> HistoryWriter::find_original(const AppendRequest& request,
                                                        AppendResult& result) {
  find_original_.bind(1, request.room);
  find_original_.bind(2, request.user_id);
  find_original_.bind(3, request.client_id);
  const int rc = find_original_.step();
  std::optional<std::string> error;
  if (rc == SQLITE_ROW) {
    result = AppendResult{.ok = true,
                          .id = static_cast<uint64_t>(find_original_.column_int64(0)),
                          .ts_ms = find_original_.column_int64(1),
                          .duplicate = true};
  } else if (rc == SQLITE_DONE) {
    error = "duplicate client_id but no original message found";
  } else {
    error = find_original_.last_error();
  }
  find_original_.reset();
  return error;
}

std::optional<std::string> HistoryWriter::save_last_ids() {
  for (const auto& [room, id] : batch_ids_) {
    save_last_id_.bind(1, room);
    save_last_id_.bind(2, static_cast<int64_t>(id));
    if (auto error = save_last_id_.run()) return error;
  }
  return std::nullopt;
}

std::optional<std::string> HistoryWriter::apply_retention() {
  const bool by_age = options_.retain_age.count() > 0;
  const int64_t expired_before =
      wall_clock_ms() -
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.retain_age).count();
  auto grew = [&](const std::string& room) {
    return rooms_to_trim_.contains(room) || batch_ids_.contains(room);
  };
  // Messages age in every room; only rooms that grew can exceed the count.
  if (by_age) {
    for (const auto& [room, id] : committed_ids_) {
      if (auto error = trim_room(room, grew(room), expired_before)) return error;
    }
    for (const auto& [room, id] : batch_ids_) {
      if (committed_ids_.contains(room)) continue;
      if (auto error = trim_room(room, true, expired_before)) return error;
    }
  } else if (options_.retain_per_room > 0) {
    for (const std::string& room : rooms_to_trim_) {
      if (auto error = trim_room(room, true, 0)) return error;
    }
    for (const auto& [room, id] : batch_ids_) {
      if (rooms_to_trim_.contains(room)) continue;
      if (auto error = trim_room(room, true, 0)) return error;
    }
  }
  return std::nullopt;
}

std::optional<std::string> HistoryWriter::trim_room(const std::string& room, bool grew,
                                                    int64_t expired_before) {
  const uint64_t last = last_id(room);
  uint64_t cut = 0;  // delete ids <= cut
  if (grew && options_.retain_per_room > 0 && last > options_.retain_per_room) {
    cut = last - options_.retain_per_room;
  }
  if (options_.retain_age.count() > 0) {
    if (auto error = find_age_cut(room, last, expired_before, cut)) return error;
  }
  if (cut == 0) return std::nullopt;
  trim_room_.bind(1, room);
  trim_room_.bind(2, static_cast<int64_t>(cut));
  return trim_room_.run();
}

std::optional<std::string> HistoryWriter::find_age_cut(const std::string& room, uint64_t last,
                                                       int64_t expired_before, uint64_t& cut) {
  oldest_.bind(1, room);
  oldest_.bind(2, static_cast<int64_t>(cut));
  int rc = oldest_.step();
  const bool oldest_expired = rc == SQLITE_ROW && oldest_.column_int64(0) < expired_before;
  std::optional<std::string> error;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) error = oldest_.last_error();
  oldest_.reset();
  if (error || !oldest_expired) return error;  // the common case: one seek, nothing to do

  first_fresh_.bind(1, room);
  first_fresh_.bind(2, static_cast<int64_t>(cut));
  first_fresh_.bind(3, expired_before);
  rc = first_fresh_.step();
  if (rc == SQLITE_ROW) {
    cut = static_cast<uint64_t>(first_fresh_.column_int64(0)) - 1;
  } else if (rc == SQLITE_DONE) {
    cut = last;  // every message of the room has expired
  } else {
    error = first_fresh_.last_error();
  }
  first_fresh_.reset();
  return error;
}

uint64_t HistoryWriter::last_id(const std::string& room) const {
  if (auto it = batch_ids_.find(room); it != batch_ids_.end()) return it->second;
  if (auto it = committed_ids_.find(room); it != committed_ids_.end()) return it->second;
  return 0;
}

bool HistoryWriter::retention_due(Clock::time_point now) const {
  return now - last_retention_ >= options_.retention_interval;
}

HistoryWriter::Clock::time_point HistoryWriter::idle_retention_deadline() const {
  // Only age retention has work to do while nobody appends. At least a second apart, so
  // retention_interval = 0 does not spin.
  if (options_.retain_age.count() == 0) return Clock::time_point::max();
  return last_retention_ +
         std::max<Clock::duration>(options_.retention_interval, std::chrono::seconds(1));
}

}  // namespace parley::store
