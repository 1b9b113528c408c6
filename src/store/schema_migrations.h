// Versioned schema. PRAGMA user_version holds the number of migration steps a database has had;
// open() applies the missing ones, in order, in one transaction, and refuses a database written
// by a newer build rather than guess at a schema it does not know.
//
// To change the schema, append a step; never edit one that has shipped. A step that has to
// rewrite every message (a new clustering, an FTS5 index filled from the table) runs inside
// open(), so its cost is paid once at start-up: say so in its comment. Planned steps (edits,
// deletes, reactions, replies, search) only add tables and columns.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "store/sqlite_database.h"

namespace parley::store {

struct SchemaMigration {
  int64_t to_version;  // user_version once this step is applied: 1, 2, 3 ...
  const char* sql;
};

// Every step, oldest first.
std::span<const SchemaMigration> schema_migrations();

// The version this build writes: the last step's to_version.
int64_t current_schema_version();

// Brings `db` up to current_schema_version(). Errors are complete sentences that name
// `db_name`: a database from a newer build is Invalid (retrying cannot help), the rest keep the
// kind SQLite's failure has (sqlite_errc).
Status migrate_schema(SqliteDatabase& db, const std::string& db_name);

}  // namespace parley::store
