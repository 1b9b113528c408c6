#include "store/history_store.h"

#include <system_error>

#include "store/directory_lock.h"
#include "store/history_reader.h"
#include "store/history_writer.h"
#include "store/schema_migrations.h"
#include "store/sqlite_database.h"

namespace parley::store {
namespace {

std::string failure(const std::string& message) {
  return "history store: " + message;
}

// The writer's connection: WAL journal, the chosen durability, then the schema.
std::variant<SqliteDatabase, std::string> open_writer_connection(
    const std::filesystem::path& file, const HistoryStore::Options& options) {
  // NOMUTEX: each connection is used by one thread at a time, so SQLite's own mutex would
  // only cost.
  auto opened =
      SqliteDatabase::open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (auto* error = std::get_if<std::string>(&opened)) return *error;
  auto& db = std::get<SqliteDatabase>(opened);
  const std::string name = file.string();
  // SQLite quietly falls back to read-only for a write-protected file; we need to write.
  if (sqlite3_db_readonly(db.handle(), "main") == 1) return "cannot write to " + name;

  // The writer is the only writer, but another process (a backup, the sqlite3 shell) may hold
  // the lock for a moment.
  db.set_busy_timeout(options.busy_timeout);
  // The first statement that reads the file: a corrupt or foreign file fails here.
  std::string journal_mode;
  if (auto error = db.query("PRAGMA journal_mode = WAL", journal_mode)) {
    return "cannot open " + name + ": " + *error;
  }
  if (journal_mode != "wal") {
    return "cannot switch " + name + " to WAL mode (journal_mode is '" + journal_mode + "')";
  }
  // See history_store.h, "Durability": in WAL mode NORMAL already survives a killed process.
  if (auto error = db.exec(options.sync_full ? "PRAGMA synchronous = FULL"
                                             : "PRAGMA synchronous = NORMAL")) {
    return "cannot configure " + name + ": " + *error;
  }
  if (auto error = migrate_schema(db, name)) return *error;
  return std::move(db);
}

}  // namespace

std::variant<std::unique_ptr<HistoryStore>, std::string> HistoryStore::open(
    const Options& options) {
  if (options.dir.empty()) return failure("no directory given");
  if (options.max_batch == 0) return failure("max_batch must be at least 1");

  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return failure("cannot create directory " + options.dir.string() + ": " + ec.message());

  auto lock = DirectoryLock::acquire(options.dir / "history.lock");
  if (auto* error = std::get_if<std::string>(&lock)) return failure(*error);

  const std::filesystem::path file = options.dir / "history.sqlite3";
  auto db = open_writer_connection(file, options);
  if (auto* error = std::get_if<std::string>(&db)) return failure(*error);

  auto writer = HistoryWriter::start(std::move(std::get<SqliteDatabase>(db)), options);
  if (auto* error = std::get_if<std::string>(&writer)) return failure(*error);

  // Opened after the writer so the file exists and is already in WAL mode.
  auto reader = HistoryReader::start(file, options.busy_timeout);
  if (auto* error = std::get_if<std::string>(&reader)) return failure(*error);

  return std::unique_ptr<HistoryStore>(
      new HistoryStore(std::move(std::get<std::unique_ptr<DirectoryLock>>(lock)),
                       std::move(std::get<std::unique_ptr<HistoryWriter>>(writer)),
                       std::move(std::get<std::unique_ptr<HistoryReader>>(reader))));
}

HistoryStore::HistoryStore(std::unique_ptr<DirectoryLock> lock,
                           std::unique_ptr<HistoryWriter> writer,
                           std::unique_ptr<HistoryReader> reader)
    : lock_(std::move(lock)), writer_(std::move(writer)), reader_(std::move(reader)) {}

HistoryStore::~HistoryStore() = default;

void HistoryStore::append(AppendRequest request, AppendDone done) {
  writer_->append(std::move(request), std::move(done));
}

void HistoryStore::recent(std::string room, std::size_t limit, PageDone done) {
  reader_->query({.room = std::move(room), .limit = limit, .done = std::move(done)});
}

void HistoryStore::before(std::string room, uint64_t before_id, std::size_t limit, PageDone done) {
  reader_->query(
      {.room = std::move(room), .before_id = before_id, .limit = limit, .done = std::move(done)});
}

void HistoryStore::after(std::string room, uint64_t after_id, std::size_t limit, PageDone done) {
  reader_->query({.room = std::move(room),
                  .after_id = after_id,
                  .limit = limit,
                  .oldest_first = true,
                  .done = std::move(done)});
}

std::vector<std::pair<std::string, uint64_t>> HistoryStore::last_ids() const {
  return writer_->last_ids();
}

void HistoryStore::flush() {
  writer_->flush();
}

}  // namespace parley::store
