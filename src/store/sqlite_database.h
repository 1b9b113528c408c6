// Owns one SQLite connection, so every early return on an error path closes it.
//
// Errors: everything that can fail returns parley::Result / Status (src/base/result.h). A SQLite
// result code becomes an Errc by sqlite_errc() below, the one place that decides what a caller
// may retry (Unavailable) and what it must not (Corrupt, Invalid, Internal).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::store {

// SQLITE_FULL, SQLITE_IOERR_*, SQLITE_BUSY/LOCKED (a lock held past busy_timeout),
// SQLITE_CANTOPEN, SQLITE_READONLY_*, SQLITE_NOMEM -> Unavailable (the disk or the file cannot
// serve now); SQLITE_CORRUPT, SQLITE_NOTADB -> Corrupt; SQLITE_TOOBIG -> Invalid; the rest (SQL
// errors, misuse, an unexpected constraint) -> Internal.
Errc sqlite_errc(int rc);

// "<what>: <SQLite's message>" (just the message when `what` is empty) with the kind
// sqlite_errc(rc) gives.
Error sqlite_error(int rc, std::string_view what, std::string_view message);

// `error` with "<what>: " in front of its message, its kind unchanged.
Error with_context(std::string_view what, Error error);

class SqliteDatabase {
 public:
  // `flags` are SQLITE_OPEN_* flags. Extended result codes are switched on so callers can tell
  // a UNIQUE violation from a NOT NULL one. Errors name the file.
  static Result<SqliteDatabase> open(const std::filesystem::path& file, int flags);

  SqliteDatabase() = default;
  SqliteDatabase(SqliteDatabase&& other) noexcept;
  SqliteDatabase& operator=(SqliteDatabase&& other) noexcept;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase();

  // Runs constant SQL from our own code (schema, pragmas, BEGIN/COMMIT). User data never goes
  // here; it is bound through SqliteStatement.
  Status exec(const char* sql);

  // Runs a constant query and returns the first column of its first row (PRAGMA user_version,
  // PRAGMA journal_mode=WAL, ...). No row is an Internal error: every query we ask has one.
  Result<std::string> query_text(const char* sql);
  Result<int64_t> query_int64(const char* sql);

  // How long a statement waits for a lock another connection holds before failing with
  // SQLITE_BUSY.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  // The connection's last failure as an Error: "<what>: <message>".
  Error last_error(std::string_view what) const;
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace parley::store
