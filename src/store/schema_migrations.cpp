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
    SchemaMigration{
        2,
        // messages in arrival order (a rowid table) instead of clustered by room. Clustered, a
        // batch spread over R rooms dirtied a leaf per room in the table and another in the
        // dedup index, and the WAL takes every dirty page whole: with 1000 busy rooms ~8 KiB
        // of WAL per message, and a commit's cost grew with the number of rooms. In arrival
        // order a batch fills the table's last pages, and only the small (room, id) index
        // is touched per room; the dedup index now leads with client_id, so time-ordered
        // client ids land on its last pages too. Measured on the 2-core dev VM, SQLite alone
        // (CPU per message, batches of 1024, 100 / 1000 rooms): 12.9 / 26.0 us before, 8.3 /
        // 10.7 us after. Page reads cost a row lookup per message, and rows over ~1 KB no
        // longer spill into overflow pages (a WITHOUT ROWID row keeps at most ~1 KB on its
        // page). FTS5 (issue 10) needs a rowid table as its external content, too.
        // The rebuild copies every message once, in this step's transaction: a large history
        // takes a while (and as much WAL) on the first start of this version.
        //
        // And each room's size, for the cap on the database (max_bytes, "largest rooms
        // first"): how many messages it holds and what they weigh. The writer keeps both up to
        // date in the transaction that inserts or deletes (stored_bytes() in append_request.h
        // is the weight; this step computes the same sum once for the messages already
        // stored).
        R"sql(
          CREATE TABLE messages_in_arrival_order (
            room        TEXT    NOT NULL,
            id          INTEGER NOT NULL,
            ts_ms       INTEGER NOT NULL,
            user_id     TEXT    NOT NULL,
            sender_name TEXT    NOT NULL,
            client_id   TEXT    NOT NULL,
            text        TEXT    NOT NULL
          );
          INSERT INTO messages_in_arrival_order
            SELECT room, id, ts_ms, user_id, sender_name, client_id, text FROM messages
            ORDER BY ts_ms, room, id;
          DROP TABLE messages;
          ALTER TABLE messages_in_arrival_order RENAME TO messages;
          CREATE UNIQUE INDEX messages_by_room ON messages (room, id);
          CREATE UNIQUE INDEX messages_by_client_id ON messages (client_id, user_id, room)
            WHERE client_id <> '';

          ALTER TABLE rooms ADD COLUMN messages INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE rooms ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
          UPDATE rooms SET (messages, bytes) = (
            SELECT count(*),
                   coalesce(sum(32 + length(CAST(m.room AS BLOB)) + length(CAST(m.user_id AS BLOB))
                                + length(CAST(m.sender_name AS BLOB))
                                + length(CAST(m.client_id AS BLOB))
                                + length(CAST(m.text AS BLOB))), 0)
            FROM messages AS m WHERE m.room = rooms.room);
        )sql"},
    SchemaMigration{
        3,
        // The room's log (issue 10, docs/PROTOCOL.md "The room's log"). A row is an entry:
        // a message (kind 0) or a change of an earlier message of the room (1 edit, 2 delete,
        // 3 react, 4 unreact; `target` the message changed, `text` the new text or the emoji,
        // `count` a reaction's count after it). A message row keeps its current state: text
        // after edits, edited_ms, deleted (text gone), rev (the last change applied), and for a
        // reply `target` = the message answered with its quote. Reactions live in their own
        // table, one row per (message, emoji, user): `seq` orders users (the change's id) and
        // `emoji_seq` emoji (when the emoji last appeared on the message).
        // messages_only: pages of messages skip the changes through it. messages_by_reply:
        // deleting a message empties the quotes of it.
        // Search: FTS5 with the trigram tokenizer over the current text of undeleted messages,
        // contentless (a match is joined back to messages by rowid; only messages are indexed,
        // which an external-content table would count as damage) and without positions
        // (detail=none): a query finds the rows holding all its trigrams, which the reader then
        // confirms by their text. Positions would make the index as large as the text and
        // one repeated trigram ("xxxx...") a doclist that every merge rewrites whole (tens of
        // MiB in one transaction, measured). Triggers give it the text it
        // indexed when a row changes or goes, and keep it in step with every insert,
        // edit, delete and retention, and drop a message's reactions with it, so retention and
        // the cap need not know about either. The index is built here for the messages stored
        // so far.
        R"sql(
          ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN target INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN edited_ms INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN quote_user TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN quote_from TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN quote_text TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN quote_deleted INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN count INTEGER NOT NULL DEFAULT 0;
          CREATE UNIQUE INDEX messages_only ON messages (room, id) WHERE kind = 0;
          CREATE INDEX messages_by_reply ON messages (room, target) WHERE kind = 0 AND target > 0;
          CREATE TABLE reactions (
            room      TEXT    NOT NULL,
            msg_id    INTEGER NOT NULL,
            emoji     TEXT    NOT NULL,
            user_id   TEXT    NOT NULL,
            seq       INTEGER NOT NULL,
            emoji_seq INTEGER NOT NULL,
            PRIMARY KEY (room, msg_id, emoji, user_id)
          ) WITHOUT ROWID;
          CREATE VIRTUAL TABLE messages_fts USING fts5(text, content = '', tokenize = 'trigram', detail = 'none');
          INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages;
          CREATE TRIGGER messages_log_insert AFTER INSERT ON messages
            WHEN new.kind = 0 AND new.deleted = 0
          BEGIN
            INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
          END;
          CREATE TRIGGER messages_log_update AFTER UPDATE OF text, deleted ON messages
            WHEN old.kind = 0
          BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text)
              SELECT 'delete', old.rowid, old.text WHERE old.deleted = 0;
            INSERT INTO messages_fts (rowid, text) SELECT new.rowid, new.text WHERE new.deleted = 0;
          END;
          CREATE TRIGGER messages_log_delete AFTER DELETE ON messages WHEN old.kind = 0
          BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text)
              SELECT 'delete', old.rowid, old.text WHERE old.deleted = 0;
            DELETE FROM reactions WHERE room = old.room AND msg_id = old.id;
          END;
        )sql"},
    SchemaMigration{
        4,
        // Attachments (issue 10, docs/PROTOCOL.md "Attachments"): a message's file, as the file
        // store described it when the sender claimed it (store/file_store.h keeps the bytes).
        // `file` is '' on every entry without one, and on a deleted message. Columns with a
        // constant default: SQLite adds them without rewriting a row, so this step is instant
        // on any history. messages_with_file finds the messages that show a file: the ones
        // retention and the cap are about to delete (their files are released,
        // history_trimmer.h), and all of them at start, when the file store's references are
        // rebuilt from the history (store/file_store.h). It holds only those rows, so a message
        // without a file costs it nothing.
        R"sql(
          ALTER TABLE messages ADD COLUMN file TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN file_size INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN file_type TEXT NOT NULL DEFAULT '';
          ALTER TABLE messages ADD COLUMN file_width INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE messages ADD COLUMN file_height INTEGER NOT NULL DEFAULT 0;
          CREATE INDEX messages_with_file ON messages (room, id) WHERE file <> '';
        )sql"},
};

}  // namespace

std::span<const SchemaMigration> schema_migrations() {
  return kMigrations;
}

int64_t current_schema_version() {
  return kMigrations.back().to_version;
}

Status migrate_schema(SqliteDatabase& db, const std::string& db_name) {
  // IMMEDIATE takes the write lock before reading the version, so two processes racing to
  // migrate the same file cannot both apply a step.
  if (Status begun = db.exec("BEGIN IMMEDIATE"); !begun) {
    return with_context("cannot start the schema migration of " + db_name, begun.error());
  }
  auto fail = [&](Error error) {
    (void)db.exec("ROLLBACK");
    return Status(std::move(error));
  };

  Result<int64_t> version = db.query_int64("PRAGMA user_version");
  if (!version) {
    return fail(with_context("cannot read the schema version of " + db_name, version.error()));
  }
  if (*version > current_schema_version()) {
    return fail(Error(Errc::Invalid, db_name + " has schema version " + std::to_string(*version) +
                                         ", newer than this build understands (" +
                                         std::to_string(current_schema_version()) +
                                         "); refusing to open it: run a newer Parley or "
                                         "restore a backup"));
  }
  for (const SchemaMigration& step : kMigrations) {
    if (step.to_version <= *version) continue;
    const std::string to = std::to_string(step.to_version);
    if (Status applied = db.exec(step.sql); !applied) {
      return fail(with_context("schema migration to version " + to + " of " + db_name + " failed",
                               applied.error()));
    }
    // PRAGMA takes no bound parameters; the value is our own constant, not user data.
    const std::string set_version = "PRAGMA user_version = " + to;
    if (Status recorded = db.exec(set_version.c_str()); !recorded) {
      return fail(
          with_context("cannot record schema version " + to + " of " + db_name, recorded.error()));
    }
  }
  if (Status committed = db.exec("COMMIT"); !committed) {
    return fail(
        with_context("cannot commit the schema migration of " + db_name, committed.error()));
  }
  return {};
}

}  // namespace parley::store
