#include "store/file_store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "store/sqlite_statement.h"

namespace parley::store {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSchema = R"sql(
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  CREATE TABLE IF NOT EXISTS files (
    id     TEXT    PRIMARY KEY,
    size   INTEGER NOT NULL,
    type   TEXT    NOT NULL,
    width  INTEGER NOT NULL,
    height INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS owners (
    id            TEXT    NOT NULL,
    user          TEXT    NOT NULL,
    pending_until INTEGER NOT NULL,
    PRIMARY KEY (id, user)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS refs (
    room   TEXT    NOT NULL,
    msg_id INTEGER NOT NULL,
    id     TEXT    NOT NULL,
    PRIMARY KEY (room, msg_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS refs_by_file ON refs (id);
)sql";

// Runs one statement with bound values; logs a failure (the index is a
// cache of decisions, and a failed write leaves it as it was).
template <typename... Args>
bool run(SqliteDatabase& db, std::string_view sql, const Args&... args) {
  SqliteStatement st;
  if (Status prepared = st.prepare(db.handle(), sql); !prepared) {
    spdlog::error("file index: {}", prepared.error().message);
    return false;
  }
  int i = 0;
  (st.bind(++i, args), ...);
  if (Status ran = st.run(); !ran) {
    spdlog::error("file index: {}", ran.error().message);
    return false;
  }
  return true;
}

StoredFile read_file_row(SqliteStatement& st) {
  return StoredFile{st.column_text(0), static_cast<uint64_t>(st.column_int64(1)), st.column_text(2),
                    static_cast<uint32_t>(st.column_int64(3)),
                    static_cast<uint32_t>(st.column_int64(4))};
}

}  // namespace

bool DiskBudget::reserve(uint64_t n) {
  if (limit_ != 0 && (used_ + reserved_ > limit_ || n > limit_ - used_ - reserved_)) return false;
  reserved_ += n;
  return true;
}

fs::path file_path(const fs::path& dir, std::string_view id) {
  return dir / std::string(id.substr(0, 2)) / std::string(id.substr(2));
}

Result<std::unique_ptr<FileStore>> FileStore::open(Options options) {
  std::error_code ec;
  fs::create_directories(options.dir / "tmp", ec);
  if (ec) return Error{Errc::Io, "cannot create " + options.dir.string() + ": " + ec.message()};
  // Uploads cut short by a restart are of no use to anyone.
  for (const auto& entry : fs::directory_iterator(options.dir / "tmp", ec)) {
    fs::remove(entry.path(), ec);
  }
  auto opened = SqliteDatabase::open(options.dir / "index.sqlite",
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!opened) return Error{Errc::Unavailable, opened.error().message};
  std::unique_ptr<FileStore> store(new FileStore(std::move(options), std::move(opened).value()));
  if (Status ok = store->prepare(); !ok) return std::move(ok).error();
  return store;
}

FileStore::FileStore(Options options, SqliteDatabase db)
    : options_(std::move(options)),
      dir_(options_.dir),
      db_(std::move(db)),
      budget_(options_.max_bytes),
      rebuilt_(!options_.rebuild_references) {}

FileStore::~FileStore() = default;

Status FileStore::prepare() {
  if (Status made = db_.exec(kSchema); !made) {
    return Error{Errc::Unavailable, "file index: " + made.error().message};
  }
  if (options_.forget_references) {
    // The messages that referenced files are gone (memory history): so are
    // their references, and every file goes in the sweep below.
    static_cast<void>(db_.exec("DELETE FROM refs; UPDATE owners SET pending_until = 0;"));
  }
  Result<int64_t> total = db_.query_int64("SELECT COALESCE(SUM(size), 0) FROM files");
  int64_t used = total ? *total : 0;
  budget_.add(static_cast<uint64_t>(used));
  if (!options_.rebuild_references) sweep();
  return {};
}

int64_t FileStore::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
}

bool FileStore::reserve(uint64_t size) {
  std::lock_guard lock(mutex_);
  if (budget_.reserve(size)) return true;
  sweep_locked();  // expired unattached uploads make room first
  return budget_.reserve(size);
}

void FileStore::unreserve(uint64_t size) {
  std::lock_guard lock(mutex_);
  budget_.unreserve(size);
}

Result<std::pair<fs::path, int>> FileStore::create_temp() {
  unsigned char random[12];
  if (RAND_bytes(random, sizeof random) != 1) return Error{Errc::Internal, "no random bytes"};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "up-";
  for (unsigned char b : random) {
    name += kHex[b >> 4];
    name += kHex[b & 15];
  }
  fs::path path = dir_ / "tmp" / name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::from_errno("cannot create " + path.string(), errno);
  return std::pair{std::move(path), fd};
}

Result<StoredFile> FileStore::commit(const fs::path& temp, const StoredFile& file,
                                     std::string_view user, uint64_t reserved) {
  std::lock_guard lock(mutex_);
  budget_.unreserve(reserved);
  std::error_code ec;
  const int64_t pending_until = now_ms() + options_.unattached_ttl.count() * 1000;
  std::optional<StoredFile> existing = find_locked(file.id);
  if (existing) {
    fs::remove(temp, ec);  // the same bytes are stored already
  } else {
    const fs::path target = file_path(dir_, file.id);
    fs::create_directories(target.parent_path(), ec);
    fs::rename(temp, target, ec);
    if (ec) {
      fs::remove(temp, ec);
      return Error{Errc::Io, "cannot store an upload: " + ec.message()};
    }
    run(db_, "INSERT INTO files (id, size, type, width, height) VALUES (?1, ?2, ?3, ?4, ?5)",
        std::string_view(file.id), static_cast<int64_t>(file.size), std::string_view(file.type),
        static_cast<int64_t>(file.width), static_cast<int64_t>(file.height));
    budget_.add(file.size);
  }
  run(db_,
      "INSERT INTO owners (id, user, pending_until) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (id, user) DO UPDATE SET pending_until = excluded.pending_until",
      std::string_view(file.id), user, pending_until);
  return existing ? *existing : file;
}

std::optional<StoredFile> FileStore::find(std::string_view id) {
  std::lock_guard lock(mutex_);
  return find_locked(id);
}

std::optional<StoredFile> FileStore::find_locked(std::string_view id) {
  SqliteStatement st;
  if (!st.prepare(db_.handle(), "SELECT id, size, type, width, height FROM files WHERE id = ?1")) {
    return std::nullopt;
  }
  st.bind(1, id);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return read_file_row(st);
}

Result<StoredFile> FileStore::claim(std::string_view user, std::string_view id) {
  std::lock_guard lock(mutex_);
  std::optional<StoredFile> file = find_locked(id);
  SqliteStatement st;
  if (file && st.prepare(db_.handle(), "SELECT 1 FROM owners WHERE id = ?1 AND user = ?2")) {
    st.bind(1, id);
    st.bind(2, user);
    if (st.step() == SQLITE_ROW) {
      st.reset();
      // Kept until the message that attaches it is stored (referenced).
      run(db_, "UPDATE owners SET pending_until = ?3 WHERE id = ?1 AND user = ?2", id, user,
          now_ms() + options_.unattached_ttl.count() * 1000);
      return *std::move(file);
    }
  }
  return Error{Errc::NotFound, "no such file among this user's uploads"};
}

void FileStore::referenced(std::string_view room, uint64_t msg_id, std::string_view id,
                           std::string_view user) {
  std::lock_guard lock(mutex_);
  run(db_, "INSERT OR IGNORE INTO refs (room, msg_id, id) VALUES (?1, ?2, ?3)", room,
      static_cast<int64_t>(msg_id), id);
  run(db_, "UPDATE owners SET pending_until = 0 WHERE id = ?1 AND user = ?2", id, user);
}

void FileStore::released(std::string_view room, uint64_t msg_id) {
  std::lock_guard lock(mutex_);
  std::string id = drop_reference(room, msg_id);
  if (!id.empty() && rebuilt_) remove_if_unused(id, now_ms());
}

void FileStore::released(const std::vector<FileRef>& messages) {
  std::lock_guard lock(mutex_);
  std::set<std::string> files;
  static_cast<void>(db_.exec("BEGIN"));
  for (const FileRef& m : messages) {
    std::string id = drop_reference(m.room, m.msg_id);
    if (!id.empty()) files.insert(std::move(id));
  }
  static_cast<void>(db_.exec("COMMIT"));
  if (!rebuilt_) return;  // the sweep after the rebuild removes what is unused
  const int64_t now = now_ms();
  for (const std::string& id : files) remove_if_unused(id, now);
}

std::string FileStore::drop_reference(std::string_view room, uint64_t msg_id) {
  if (!rebuilt_) released_early_.emplace(room, msg_id);
  SqliteStatement st;
  if (!st.prepare(db_.handle(), "SELECT id FROM refs WHERE room = ?1 AND msg_id = ?2")) return {};
  st.bind(1, room);
  st.bind(2, static_cast<int64_t>(msg_id));
  if (st.step() != SQLITE_ROW) return {};  // a message without a file
  std::string id = st.column_text(0);
  st.reset();
  run(db_, "DELETE FROM refs WHERE room = ?1 AND msg_id = ?2", room, static_cast<int64_t>(msg_id));
  return id;
}

void FileStore::rebuild_references(const std::vector<FileRef>& messages, bool forget_pending) {
  std::lock_guard lock(mutex_);
  static_cast<void>(db_.exec("BEGIN"));
  run(db_, "DELETE FROM refs");
  for (const FileRef& m : messages) {
    if (released_early_.contains({m.room, m.msg_id})) continue;
    run(db_, "INSERT OR IGNORE INTO refs (room, msg_id, id) VALUES (?1, ?2, ?3)",
        std::string_view(m.room), static_cast<int64_t>(m.msg_id), std::string_view(m.file));
  }
  if (forget_pending) run(db_, "UPDATE owners SET pending_until = 0");
  static_cast<void>(db_.exec("COMMIT"));
  rebuilt_ = true;
  released_early_.clear();
  sweep_locked();
}

void FileStore::remove_if_unused(const std::string& id, int64_t now) {
  SqliteStatement st;
  if (!st.prepare(db_.handle(),
                  "SELECT (SELECT COUNT(*) FROM refs WHERE id = ?1) + "
                  "(SELECT COUNT(*) FROM owners WHERE id = ?1 AND pending_until > ?2)")) {
    return;
  }
  st.bind(1, std::string_view(id));
  st.bind(2, now);
  if (st.step() != SQLITE_ROW || st.column_int64(0) != 0) return;
  st.reset();
  std::optional<StoredFile> file = find_locked(id);
  if (!file) return;
  std::error_code ec;
  fs::remove(file_path(dir_, id), ec);
  if (ec) spdlog::warn("cannot remove an unused upload: {}", ec.message());
  run(db_, "DELETE FROM owners WHERE id = ?1", std::string_view(id));
  run(db_, "DELETE FROM files WHERE id = ?1", std::string_view(id));
  budget_.remove(file->size);
}

void FileStore::sweep() {
  std::lock_guard lock(mutex_);
  sweep_locked();
}

void FileStore::sweep_locked() {
  const int64_t now = now_ms();
  std::vector<std::string> unused;
  SqliteStatement st;
  if (!st.prepare(db_.handle(),
                  "SELECT id FROM files WHERE id NOT IN (SELECT id FROM refs) AND id NOT IN "
                  "(SELECT id FROM owners WHERE pending_until > ?1)")) {
    return;
  }
  st.bind(1, now);
  while (st.step() == SQLITE_ROW) unused.push_back(st.column_text(0));
  st.reset();
  for (const std::string& id : unused) remove_if_unused(id, now);
}

uint64_t FileStore::used_bytes() {
  std::lock_guard lock(mutex_);
  return budget_.used();
}

}  // namespace parley::store
