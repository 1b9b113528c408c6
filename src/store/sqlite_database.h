// Owns one SQLite connection, so every early return on an error path closes it.
//
// Error convention for the whole store: functions that can fail return
// std::optional<std::string>, empty on success, the message otherwise.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>

namespace parley::store {

class SqliteDatabase {
 public:
  // `flags` are SQLITE_OPEN_* flags. Extended result codes are switched on so callers can tell
  // a UNIQUE violation from a PRIMARY KEY one. Errors name the file.
  static std::variant<SqliteDatabase, std::string> open(const std::filesystem::path& file,
                                                        int flags);

  SqliteDatabase() = default;
  SqliteDatabase(SqliteDatabase&& other) noexcept;
  SqliteDatabase& operator=(SqliteDatabase&& other) noexcept;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase();

  // Runs constant SQL from our own code (schema, pragmas, BEGIN/COMMIT). User data never goes
  // here; it is bound through SqliteStatement.
  std::optional<std::string> exec(const char* sql);

  // Runs a constant query and stores the first column of its first row (PRAGMA user_version,
  // PRAGMA journal_mode=WAL, ...). `result` is left alone when there is no row.
  std::optional<std::string> query(const char* sql, std::string& result);
  std::optional<std::string> query(const char* sql, int64_t& result);

  // How long a statement waits for a lock another connection holds before failing with
  // SQLITE_BUSY.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  std::string last_error() const;
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace parley::store
