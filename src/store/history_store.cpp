#include "store/history_store.h"

#include <unistd.h>

#include <system_error>

#include "store/directory_lock.h"
#include "store/history_reader.h"
#include "store/history_writer.h"
#include "store/schema_migrations.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store/store_files.h"
#include "store/store_health.h"
#include "store/wal_checkpointer.h"

namespace parley::store {
namespace {

// The writer's page cache: the open end of about a thousand busy rooms (a leaf of messages and
// of the dedup index each), so inserts do not re-read pages. It is memory any client can fill
// with large messages, so it counts in the memory budget (docs/SECURITY.md): at 32 MiB,
// attack_big_messages' 1 MiB texts held +72 MiB where it allows 64, and 100 busy rooms were
// not faster with 32 MiB than with 8 (docs/BENCHMARKS.md, "Durable insert throughput").
constexpr int64_t kWriterCacheKiB = 8 * 1024;

Error failure(Error error) {
  return with_context("history store", std::move(error));
}

// The database file, created 0600 before SQLite opens it (SQLite would create it 0644 & ~umask,
// and gives -wal and -shm the database's mode).
Status create_database_file(const std::filesystem::path& file) {
  Result<int> fd = open_private_file(file);
  if (!fd) return std::move(fd).error();
  ::close(*fd);
  return {};
}

// The writer's connection: WAL journal, the chosen durability, no automatic checkpoint (see
// "Checkpoints"), then the schema.
Result<SqliteDatabase> open_writer_connection(const std::filesystem::path& file,
                                              const HistoryStore::Options& options) {
  // NOMUTEX: each connection is used by one thread at a time, so SQLite's own mutex would
  // only cost.
  Result<SqliteDatabase> opened =
      SqliteDatabase::open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!opened) return opened;
  SqliteDatabase& db = *opened;
  const std::string name = file.string();
  // SQLite quietly falls back to read-only for a write-protected file; we need to write.
  if (sqlite3_db_readonly(db.handle(), "main") == 1) {
    return Error(Errc::Unavailable, "cannot write to " + name);
  }
  // The writer is the only writer, but another process (a backup, the sqlite3 shell) may hold
  // the lock for a moment.
  db.set_busy_timeout(options.busy_timeout);
  // The first statement that reads the file: a corrupt or foreign file fails here.
  Result<std::string> journal_mode = db.query_text("PRAGMA journal_mode = WAL");
  if (!journal_mode) return with_context("cannot open " + name, journal_mode.error());
  if (*journal_mode != "wal") {
    return Error(Errc::Unavailable, "cannot switch " + name + " to WAL mode (journal_mode is '" +
                                        *journal_mode + "')");
  }
  // See history_store.h, "Durability": in WAL mode NORMAL already survives a killed process.
  // PRAGMAs take no bound parameters; the values are numbers from our options.
  const std::string pragmas = std::string(options.sync_full ? "PRAGMA synchronous = FULL;"
                                                            : "PRAGMA synchronous = NORMAL;") +
                              "PRAGMA wal_autocheckpoint = 0;" + "PRAGMA journal_size_limit = " +
                              std::to_string(options.wal_restart_bytes) + ";" +
                              "PRAGMA cache_size = -" + std::to_string(kWriterCacheKiB) + ";" +
                              // A statement that may fail halfway inside a transaction keeps a
                              // statement journal, a temporary file once it passes 64 KiB (a
                              // retention step's DELETE): one file created, written and removed
                              // per statement. In memory instead; bounded by the step's size.
                              "PRAGMA temp_store = MEMORY;";
  if (Status configured = db.exec(pragmas.c_str()); !configured) {
    return with_context("cannot configure " + name, configured.error());
  }
  if (Status migrated = migrate_schema(db, name); !migrated) return migrated.error();
  return opened;
}

// Every message that shows a file (the partial index messages_with_file), oldest first per room.
Result<std::vector<FileRef>> files_shown(SqliteDatabase& db) {
  SqliteStatement st;
  if (Status prepared = st.prepare(db.handle(),
                                   "SELECT room, id, file FROM messages WHERE file <> '' "
                                   "ORDER BY room, id");
      !prepared) {
    return prepared.error();
  }
  std::vector<FileRef> out;
  Result<bool> row = st.next();
  for (; row && *row; row = st.next()) {
    out.push_back(
        FileRef{st.column_text(0), static_cast<uint64_t>(st.column_int64(1)), st.column_text(2)});
  }
  if (!row) return with_context("cannot list the messages with a file", row.error());
  return out;
}

Status check_options(const HistoryStore::Options& options) {
  if (options.dir.empty()) return Error(Errc::Invalid, "no directory given");
  if (options.max_batch == 0) return Error(Errc::Invalid, "max_batch must be at least 1");
  if (options.file_check_interval.count() <= 0) {
    return Error(Errc::Invalid, "file_check_interval must be positive");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<HistoryStore>> HistoryStore::open(const Options& options) {
  if (Status valid = check_options(options); !valid) return failure(valid.error());
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return failure(
        Error::from_errno("cannot create directory " + options.dir.string(), ec.value()));
  }
  std::unique_ptr<HistoryStore> store(new HistoryStore());
  Result<std::unique_ptr<DirectoryLock>> lock =
      DirectoryLock::acquire(options.dir / "history.lock");
  if (!lock) return failure(std::move(lock).error());
  store->lock_ = std::move(lock).value();

  const std::filesystem::path file = options.dir / "history.sqlite3";
  if (Status created = create_database_file(file); !created) return failure(created.error());
  Result<SqliteDatabase> db = open_writer_connection(file, options);
  if (!db) return failure(std::move(db).error());
  Result<std::vector<FileRef>> files_shown_now = files_shown(*db);
  if (!files_shown_now) return failure(std::move(files_shown_now).error());
  store->files_at_open_ = std::move(files_shown_now).value();
  // The -wal exists now (the migration's transaction opened it): both are watched.
  Result<FileWatch> files = FileWatch::capture({file, file.string() + "-wal"});
  if (!files) return failure(std::move(files).error());

  // Started before the writer, so the writer's first commit already reports to it.
  Result<std::unique_ptr<WalCheckpointer>> checkpointer =
      WalCheckpointer::start(file,
                             {.checkpoint_bytes = options.checkpoint_bytes,
                              .wal_restart_bytes = options.wal_restart_bytes},
                             *store->gate_, *store->health_, *store->counters_);
  if (!checkpointer) return failure(std::move(checkpointer).error());
  store->checkpointer_ = std::move(checkpointer).value();
  store->checkpointer_->attach_to_writer(*db);

  Result<std::unique_ptr<HistoryWriter>> writer = HistoryWriter::start(
      std::move(db).value(), options,
      {.health = *store->health_, .counters = *store->counters_, .gate = *store->gate_},
      std::move(files).value());
  if (!writer) return failure(std::move(writer).error());
  store->writer_ = std::move(writer).value();

  // Opened after the writer so the file exists and is already in WAL mode.
  Result<std::unique_ptr<HistoryReader>> reader =
      HistoryReader::start(file, options.busy_timeout, *store->health_, *store->counters_);
  if (!reader) return failure(std::move(reader).error());
  store->reader_ = std::move(reader).value();
  return store;
}

HistoryStore::HistoryStore()
    : health_(std::make_unique<StoreHealth>()),
      counters_(std::make_unique<StoreCounters>()),
      gate_(std::make_unique<WriterGate>(*counters_)) {}

HistoryStore::~HistoryStore() {
  reader_.reset();
  // The writer's last commits still report to the checkpointer; its connection must close
  // after the checkpointer's, being the last, so that SQLite checkpoints and removes the WAL.
  if (writer_) writer_->stop();
  checkpointer_.reset();
  writer_.reset();
}

void HistoryStore::append(AppendRequest request, AppendDone done) {
  writer_->append(std::move(request), std::move(done));
}

void HistoryStore::recent(std::string room, std::size_t limit, PageDone done, ReadTag tag) {
  reader_->query({.room = std::move(room),
                  .limit = limit,
                  .done = std::move(done),
                  .messages_only = true,
                  .tag = std::move(tag)});
}

void HistoryStore::before(std::string room, uint64_t before_id, std::size_t limit, PageDone done,
                          ReadTag tag) {
  reader_->query({.room = std::move(room),
                  .before_id = before_id,
                  .limit = limit,
                  .done = std::move(done),
                  .messages_only = true,
                  .tag = std::move(tag)});
}

void HistoryStore::messages_after(std::string room, uint64_t after_id, std::size_t limit,
                                  PageDone done, ReadTag tag) {
  reader_->query({.room = std::move(room),
                  .after_id = after_id,
                  .limit = limit,
                  .oldest_first = true,
                  .done = std::move(done),
                  .messages_only = true,
                  .tag = std::move(tag)});
}

void HistoryStore::search(std::string room, std::string query, uint64_t before, std::size_t limit,
                          SearchDone done, ReadTag tag) {
  reader_->search({.room = std::move(room),
                   .query = std::move(query),
                   .before = before,
                   .limit = limit,
                   .done = std::move(done),
                   .tag = std::move(tag)});
}

void HistoryStore::after(std::string room, uint64_t after_id, std::size_t limit, PageDone done,
                         ReadTag tag) {
  reader_->query({.room = std::move(room),
                  .after_id = after_id,
                  .limit = limit,
                  .oldest_first = true,
                  .done = std::move(done),
                  .tag = std::move(tag)});
}

std::vector<std::pair<std::string, uint64_t>> HistoryStore::last_ids() const {
  return writer_->last_ids();
}

void HistoryStore::flush() {
  writer_->flush();
}

Status HistoryStore::health() const {
  return health_->status();
}

HistoryStore::Stats HistoryStore::stats() const {
  const StoreCounters& c = *counters_;
  auto get = [](const std::atomic<uint64_t>& value) { return StoreCounters::get(value); };
  return Stats{.database_bytes = get(c.database_bytes),
               .used_bytes = get(c.used_bytes),
               .wal_bytes = get(c.wal_bytes),
               .appends_committed = get(c.appends_committed),
               .appends_duplicate = get(c.appends_duplicate),
               .append_errors = get(c.append_errors),
               .appends_refused = get(c.appends_refused),
               .appends_over_budget = get(c.appends_over_budget),
               .transactions = get(c.transactions),
               .reads = get(c.reads),
               .read_errors = get(c.read_errors),
               .reads_cancelled = get(c.reads_cancelled),
               .deleted_by_retention = get(c.deleted_by_retention),
               .deleted_by_cap = get(c.deleted_by_cap),
               .checkpoints = get(c.checkpoints),
               .checkpoint_errors = get(c.checkpoint_errors),
               .writer_holds = get(c.writer_holds),
               .writer_held_us = get(c.writer_held_us),
               .pending_appends = writer_->pending(),
               .pending_bytes = writer_->pending_bytes()};
}

}  // namespace parley::store
