// A prepared statement that is compiled once and reused for every row: the writer's hot path
// never parses SQL, and user data only ever reaches SQLite as bound values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::store {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Compiles `sql` (a constant from our code) for `db`, replacing any earlier statement.
  Status prepare(sqlite3* db, std::string_view sql);

  // Parameters are 1-based, as in SQL (?1, ?2 ...).
  void bind(int index, int64_t value);
  // The text is NOT copied (SQLITE_STATIC: it saves a copy per column on the write path), so it
  // must stay alive and unchanged until reset().
  void bind(int index, std::string_view text);

  // SQLite's own protocol: SQLITE_ROW, SQLITE_DONE, or an (extended) error code, for the one
  // caller that must tell one failure from another (the insert's UNIQUE violation). error(rc)
  // turns the code into an Error.
  int step();
  // The next row: true, no more rows: false, or the failure as an Error.
  Result<bool> next();
  // step() for statements that return no rows, followed by reset().
  Status run();

  int64_t column_int64(int column) const;
  std::string column_text(int column) const;

  // Makes the statement reusable and drops the bound values (see bind()).
  void reset();
  // The failure `rc` (from step()) with the connection's message.
  Error error(int rc) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace parley::store
