#include "store/sqlite_database.h"

#include <utility>

#include "store/sqlite_statement.h"

namespace parley::store {
namespace {

std::string join_message(std::string_view what, std::string_view message) {
  std::string text;
  text.reserve(what.size() + 2 + message.size());
  if (!what.empty()) {
    text += what;
    text += ": ";
  }
  text += message;
  return text;
}

}  // namespace

Errc sqlite_errc(int rc) {
  switch (rc & 0xff) {  // the primary code; the extended bits say which way it failed
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Errc::Unavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Errc::Corrupt;
    case SQLITE_TOOBIG:
      return Errc::Invalid;
    default:
      return Errc::Internal;
  }
}

Error sqlite_error(int rc, std::string_view what, std::string_view message) {
  return Error(sqlite_errc(rc), join_message(what, message));
}

Error with_context(std::string_view what, Error error) {
  error.message = join_message(what, error.message);
  return error;
}

Result<SqliteDatabase> SqliteDatabase::open(const std::filesystem::path& file, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a connection even on failure, to carry the message.
    Error error = sqlite_error(rc, "cannot open " + file.string(),
                               db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return SqliteDatabase(db);
}

SqliteDatabase::SqliteDatabase(SqliteDatabase&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteDatabase& SqliteDatabase::operator=(SqliteDatabase&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

SqliteDatabase::~SqliteDatabase() {
  sqlite3_close_v2(db_);
}

Status SqliteDatabase::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  // No "what": the caller says what it was doing (with_context).
  Error error = sqlite_error(sqlite3_extended_errcode(db_), "",
                             message != nullptr ? message : sqlite3_errmsg(db_));
  sqlite3_free(message);
  return error;
}

Result<std::string> SqliteDatabase::query_text(const char* sql) {
  SqliteStatement statement;
  if (Status prepared = statement.prepare(db_, sql); !prepared) return prepared.error();
  Result<bool> row = statement.next();
  if (!row) return std::move(row).error();
  if (!*row) return Error(Errc::Internal, std::string("no row from: ") + sql);
  return statement.column_text(0);
}

Result<int64_t> SqliteDatabase::query_int64(const char* sql) {
  SqliteStatement statement;
  if (Status prepared = statement.prepare(db_, sql); !prepared) return prepared.error();
  Result<bool> row = statement.next();
  if (!row) return std::move(row).error();
  if (!*row) return Error(Errc::Internal, std::string("no row from: ") + sql);
  return statement.column_int64(0);
}

void SqliteDatabase::set_busy_timeout(std::chrono::milliseconds timeout) {
  sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
}

Error SqliteDatabase::last_error(std::string_view what) const {
  if (db_ == nullptr) return Error(Errc::Internal, std::string(what) + ": no database connection");
  return sqlite_error(sqlite3_extended_errcode(db_), what, sqlite3_errmsg(db_));
}

}  // namespace parley::store
