// A prepared statement that is compiled once and reused for every row: the writer's hot path
// never parses SQL, and user data only ever reaches SQLite as bound values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
  std::optional<std::string> prepare(sqlite3* db, std::string_view sql);

  // Parameters are 1-based, as in SQL (?1, ?2 ...).
  void bind(int index, int64_t value);
  // The text is NOT copied (SQLITE_STATIC: it saves a copy per column on the write path), so it
  // must stay alive and unchanged until reset().
  void bind(int index, std::string_view text);

  // SQLITE_ROW, SQLITE_DONE, or an (extended) error code.
  int step();
  // step() for statements that return no rows, followed by reset(). Returns the error message.
  std::optional<std::string> run();

  int64_t column_int64(int column) const;
  std::string column_text(int column) const;

  // Makes the statement reusable and drops the bound values (see bind()).
  void reset();
  std::string last_error() const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace parley::store
