// Versioned schema. PRAGMA user_version holds the number of migration steps a database has had;
// open() applies the missing ones, in order, in one transaction, and refuses a database written
// by a newer build rather than guess at a schema it does not know.
//
// To change the schema, append a step; never edit one that has shipped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

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

// Brings `db` up to current_schema_version(). Errors (including "too new") are complete
// sentences that name `db_name`.
std::optional<std::string> migrate_schema(SqliteDatabase& db, const std::string& db_name);

}  // namespace parley::store
