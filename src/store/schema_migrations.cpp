#include "store/schema_migrations.h"

#include <array>

namespace parley::store {
namespace {

constexpr std::array kMigrations = {
    SchemaMigration{
        1,
        // messages is clustered by (room, id) (WITHOUT ROWID): every page query is one range
        // scan and an insert touches one b-tree instead of a table plus an index.
        // client_id is '' when the client sent none; only non-empty ones take part in dedup.
        // The dedup index leads with client_id rather than user_id: the constraint is the same,
        // but time-ordered client ids then land at one spot per room, so a batch dirties a few
        // index pages instead of one per sender (the WAL gets every dirty page in full).
        // No index on ts_ms: age retention walks each room from its oldest message (see
        // history_writer.cpp), and every index costs each insert a b-tree seek.
        // rooms remembers the last id handed out even after retention deleted every message
        // of a room, so ids are never reused across restarts.
        R"sql(
          CREATE TABLE messages (
            room        TEXT    NOT NULL,
            id          INTEGER NOT NULL,
            ts_ms       INTEGER NOT NULL,
            user_id     TEXT    NOT NULL,
            sender_name TEXT    NOT NULL,
            client_id   TEXT    NOT NULL,
            text        TEXT    NOT NULL,
            PRIMARY KEY (room, id)
          ) WITHOUT ROWID;
          CREATE UNIQUE INDEX messages_by_client_id ON messages (room, client_id, user_id)
            WHERE client_id <> '';
          CREATE TABLE rooms (
            room    TEXT    PRIMARY KEY,
            last_id INTEGER NOT NULL
          ) WITHOUT ROWID;
        )sql"},
};

}  // namespace

std::span<const SchemaMigration> schema_migrations() {
  return kMigrations;
}

int64_t current_schema_version() {
  return kMigrations.back().to_version;
}

std::optional<std::string> migrate_schema(SqliteDatabase& db, const std::string& db_name) {
  // IMMEDIATE takes the write lock before reading the version, so two processes racing to
  // migrate the same file cannot both apply a step.
  if (auto error = db.exec("BEGIN IMMEDIATE")) {
    return "cannot start the schema migration of " + db_name + ": " + *error;
  }
  auto fail = [&](std::string message) {
    db.exec("ROLLBACK");
    return std::optional<std::string>(std::move(message));
  };

  int64_t version = 0;
  if (auto error = db.query("PRAGMA user_version", version)) {
    return fail("cannot read the schema version of " + db_name + ": " + *error);
  }
  if (version > current_schema_version()) {
    return fail(db_name + " has schema version " + std::to_string(version) +
                ", newer than this build understands (" + std::to_string(current_schema_version()) +
                "); refusing to open it: run a newer Parley or restore a backup");
  }
  for (const SchemaMigration& step : kMigrations) {
    if (step.to_version <= version) continue;
    if (auto error = db.exec(step.sql)) {
      return fail("schema migration to version " + std::to_string(step.to_version) + " of " +
                  db_name + " failed: " + *error);
    }
    // PRAGMA takes no bound parameters; the value is our own constant, not user data.
    std::string set_version = "PRAGMA user_version = " + std::to_string(step.to_version);
    if (auto error = db.exec(set_version.c_str())) {
      return fail("cannot record schema version " + std::to_string(step.to_version) + " of " +
                  db_name + ": " + *error);
    }
  }
  if (auto error = db.exec("COMMIT")) {
    return fail("cannot commit the schema migration of " + db_name + ": " + *error);
  }
  return std::nullopt;
}

}  // namespace parley::store
