// The room's log on the writer's side (docs/PROTOCOL.md "The room's log"): a change of a
// message (edit, delete, react, unreact) or a reply, stored inside the writer's open batch
// transaction. The rules are checked against the target's row in that same transaction, so two
// connections (or two tabs of one user) cannot race past them, and the change is applied to the
// target's row (and to the reactions table, and to the quotes of a deleted message) before the
// transaction commits: the change and its effect are durable together, or neither is.
//
// The rules are those of chat/message_log.h (the chat's MemoryHistory keeps the same ones; the
// integration tests run against both):
// - the target is a message (kind 0) of the room: else kNotFound;
// - edit and delete: its author only (same user_id): else kNotAuthor; not deleted: else kDeleted;
// - react, unreact: not deleted (kDeleted); one reaction per (message, user, emoji): a react
//   already there or an unreact not there stores nothing (a duplicate answer with the target's
//   id and time); at most max_reaction_emoji emoji and max_reactions reactions (kLimitReached);
// - a reply quotes the first quote_chars code points of its target (kNotFound without one).
// A refusal is an AppendResult, not an error: the batch's other appends still commit.
//
// Plain messages (not replies, no attachment) do not come here: HistoryWriter inserts them on
// its fast path. A message with a file comes here for its columns (schema step 4); it has no
// rule to check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "store/append_request.h"
#include "store/history_store.h"
#include "store/room_ledger.h"
#include "store/sqlite_statement.h"

namespace parley::store {

class LogWriter {
 public:
  explicit LogWriter(const HistoryStore::Options& options) : options_(options) {}

  Status prepare(sqlite3* db);
  // Whether `request` needs this path (a change, or a reply).
  static bool handles(const AppendRequest& request) {
    return request.kind != EntryKind::kMessage || request.target != 0 ||
           !request.attachment.file.empty();
  }
  // Inside the writer's transaction. Errors are failures of SQLite (the batch rolls back).
  Result<AppendResult> insert(const AppendRequest& request, int64_t ts_ms, RoomLedger& ledger);

  // The entry stored before with the request's (room, user_id, client_id), as a duplicate
  // answer: its id and time, and its quote or count if it is a reply or a reaction.
  Result<std::optional<AppendResult>> find_original(const AppendRequest& request);

  // The search index keeps a deleted row's entries (as a "delete" record) until its segments
  // are merged, so deleting messages first makes it larger. After retention or the cap
  // deleted rows, one bounded merge (about `pages` pages written) gives the space back, which
  // the cap needs to ever get under its bound. Inside a transaction.
  static constexpr int kCompactPages = 256;
  Status compact_index(int pages = kCompactPages);

 private:
  struct Target {
    uint8_t kind = 0;
    int64_t ts_ms = 0;
    std::string user_id;
    std::string sender_name;
    std::string text;
    bool deleted = false;
  };
  // What the reactions of the target look like to a react or unreact.
  struct Reactions {
    bool present = false;      // this user, this emoji
    uint64_t emoji_count = 0;  // reactions with this emoji
    uint64_t kinds = 0;        // different emoji
    uint64_t total = 0;        // reactions in all
    uint64_t emoji_seq = 0;    // when this emoji appeared (0: it is not there)
  };

  Result<std::optional<Target>> load_target(const std::string& room, uint64_t id);
  Result<Reactions> reactions_of(const AppendRequest& request);
  // The rules: a refusal, a no-op (duplicate), or nothing (go ahead).
  Result<std::optional<AppendResult>> check(const AppendRequest& request,
                                            const std::optional<Target>& target,
                                            const Reactions& reactions) const;
  // A message that is not a reply (one with a file): stored as it is.
  Result<AppendResult> insert_message(const AppendRequest& request, int64_t ts_ms,
                                      RoomLedger& ledger);
  Status insert_row(const AppendRequest& request, uint64_t id, int64_t ts_ms,
                    const AppendResult& result);
  // The room's last id, message count and weight after `request` is stored as `id`.
  static void counted(const AppendRequest& request, uint64_t id, RoomLedger& ledger);
  Status apply(const AppendRequest& request, uint64_t id, int64_t ts_ms,
               const Reactions& reactions);

  const HistoryStore::Options& options_;
  SqliteStatement find_original_;
  SqliteStatement target_;
  SqliteStatement reactions_;
  SqliteStatement insert_;
  SqliteStatement edit_;
  SqliteStatement delete_;
  SqliteStatement forget_quotes_;
  SqliteStatement drop_reactions_;
  SqliteStatement add_reaction_;
  SqliteStatement remove_reaction_;
  SqliteStatement set_rev_;
  SqliteStatement merge_;
};

// Binds ?1..?7 of an INSERT INTO messages, the columns every message has, in
// this order: room, id, ts_ms, user_id, sender_name, client_id, text.
void bind_message_columns(SqliteStatement& insert, const AppendRequest& request, uint64_t id,
                          int64_t ts_ms);

}  // namespace parley::store
