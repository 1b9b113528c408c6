#include "store/sqlite_database.h"

#include <utility>

#include "store/sqlite_statement.h"

namespace parley::store {

std::variant<SqliteDatabase, std::string> SqliteDatabase::open(const std::filesystem::path& file,
                                                               int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a connection even on failure, to carry the message.
    std::string error = "cannot open " + file.string() + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
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

std::optional<std::string> SqliteDatabase::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return std::nullopt;
  std::string error = message != nullptr ? message : last_error();
  sqlite3_free(message);
  return error;
}

std::optional<std::string> SqliteDatabase::query(const char* sql, std::string& result) {
  SqliteStatement statement;
  if (auto error = statement.prepare(db_, sql)) return error;
  int rc = statement.step();
  if (rc == SQLITE_ROW) {
    result = statement.column_text(0);
  } else if (rc != SQLITE_DONE) {
    return statement.last_error();
  }
  return std::nullopt;
}

std::optional<std::string> SqliteDatabase::query(const char* sql, int64_t& result) {
  SqliteStatement statement;
  if (auto error = statement.prepare(db_, sql)) return error;
  int rc = statement.step();
  if (rc == SQLITE_ROW) {
    result = statement.column_int64(0);
  } else if (rc != SQLITE_DONE) {
    return statement.last_error();
  }
  return std::nullopt;
}

void SqliteDatabase::set_busy_timeout(std::chrono::milliseconds timeout) {
  sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
}

std::string SqliteDatabase::last_error() const {
  return db_ != nullptr ? sqlite3_errmsg(db_) : "no database connection";
}

}  // namespace parley::store
