#include "store/sqlite_statement.h"

#include <utility>

#include "store/sqlite_database.h"

namespace parley::store {

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);
}

Status SqliteStatement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  // PERSISTENT: these statements live as long as the connection, so SQLite should not take
  // their memory from its small lookaside pool.
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(rc, "cannot prepare " + std::string(sql), sqlite3_errmsg(db));
  }
  return {};
}

void SqliteStatement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}

void SqliteStatement::bind(int index, std::string_view text) {
  // A null pointer would bind SQL NULL, which the NOT NULL columns reject; empty is ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC);
}

int SqliteStatement::step() {
  return sqlite3_step(stmt_);
}

Result<bool> SqliteStatement::next() {
  const int rc = step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error(rc);
}

Status SqliteStatement::run() {
  const int rc = step();
  Status status;
  if (rc != SQLITE_DONE) status = error(rc);
  reset();
  return status;
}

int64_t SqliteStatement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::column_text(int column) const {
  // Ask for the text before its length: sqlite3_column_bytes then measures the same conversion.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Error SqliteStatement::error(int rc) const {
  sqlite3* db = stmt_ != nullptr ? sqlite3_db_handle(stmt_) : nullptr;
  if (db == nullptr) return Error(Errc::Internal, "statement not prepared");
  return sqlite_error(rc, "", sqlite3_errmsg(db));
}

}  // namespace parley::store
