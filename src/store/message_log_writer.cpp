#include "store/message_log_writer.h"

#include "base/strings.h"

namespace parley::store {
namespace {

constexpr const char* kFindOriginalSql =
    "SELECT id, ts_ms, quote_user, quote_from, quote_text, quote_deleted, count,"
    " CASE WHEN kind = 0 THEN target ELSE 0 END FROM messages "
    "WHERE room = ?1 AND user_id = ?2 AND client_id = ?3 AND client_id <> ''";
constexpr const char* kTargetSql =
    "SELECT kind, ts_ms, user_id, sender_name, text, deleted FROM messages "
    "WHERE room = ?1 AND id = ?2";
// One pass over the target's reactions (at most max_reactions rows, by the primary key).
constexpr const char* kReactionsSql =
    "SELECT coalesce(max(emoji = ?3 AND user_id = ?4), 0), coalesce(sum(emoji = ?3), 0), "
    "count(DISTINCT emoji), count(*), coalesce(max(CASE WHEN emoji = ?3 THEN emoji_seq END), 0) "
    "FROM reactions WHERE room = ?1 AND msg_id = ?2";
constexpr const char* kInsertSql =
    "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text, kind, target,"
    " quote_user, quote_from, quote_text, quote_deleted, count,"
    " file, file_name, file_size, file_type, file_width, file_height) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15, ?16, ?17, ?18, ?19, ?20)";
constexpr const char* kEditSql =
    "UPDATE messages SET text = ?3, edited_ms = ?4, rev = ?5 WHERE room = ?1 AND id = ?2";
// A tombstone keeps id, ts, user and name; its text, edit time, reactions, quote and
// attachment go (the chat releases the file once this is stored).
constexpr const char* kDeleteSql =
    "UPDATE messages SET text = '', deleted = 1, edited_ms = 0, rev = ?3, target = 0,"
    " quote_user = '', quote_from = '', quote_text = '', quote_deleted = 0,"
    " file = '', file_name = '', file_size = 0, file_type = '', file_width = 0, file_height = 0 "
    "WHERE room = ?1 AND id = ?2";
constexpr const char* kForgetQuotesSql =
    "UPDATE messages SET quote_text = '', quote_deleted = 1 "
    "WHERE room = ?1 AND target = ?2 AND kind = 0 AND quote_deleted = 0";
constexpr const char* kDropReactionsSql = "DELETE FROM reactions WHERE room = ?1 AND msg_id = ?2";
constexpr const char* kAddReactionSql =
    "INSERT INTO reactions (room, msg_id, emoji, user_id, seq, emoji_seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kRemoveReactionSql =
    "DELETE FROM reactions WHERE room = ?1 AND msg_id = ?2 AND emoji = ?3 AND user_id = ?4";
constexpr const char* kSetRevSql = "UPDATE messages SET rev = ?3 WHERE room = ?1 AND id = ?2";
// A negative page count merges whatever segments there are, not only full levels.
constexpr const char* kMergeSql =
    "INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', ?1)";

AppendResult refused(Refusal refusal) {
  return AppendResult{.refusal = refusal};
}

}  // namespace

Status LogWriter::prepare(sqlite3* db) {
  const std::pair<SqliteStatement*, const char*> statements[] = {
      {&find_original_, kFindOriginalSql},
      {&target_, kTargetSql},
      {&reactions_, kReactionsSql},
      {&insert_, kInsertSql},
      {&edit_, kEditSql},
      {&delete_, kDeleteSql},
      {&forget_quotes_, kForgetQuotesSql},
      {&drop_reactions_, kDropReactionsSql},
      {&add_reaction_, kAddReactionSql},
      {&remove_reaction_, kRemoveReactionSql},
      {&set_rev_, kSetRevSql},
      {&merge_, kMergeSql},
  };
  for (auto [statement, sql] : statements) {
    if (Status prepared = statement->prepare(db, sql); !prepared) return prepared;
  }
  return {};
}

Status LogWriter::compact_index(int pages) {
  merge_.bind(1, int64_t{-pages});
  return merge_.run();
}

Result<AppendResult> LogWriter::insert(const AppendRequest& request, int64_t ts_ms,
                                       RoomLedger& ledger) {
  // A resend is answered from the original before anything is checked or applied again.
  Result<std::optional<AppendResult>> original = find_original(request);
  if (!original) return std::move(original).error();
  if (*original) return **original;
  // A message with a file and no reply: nothing to check, only its columns to store.
  if (request.kind == EntryKind::kMessage && request.target == 0) {
    return insert_message(request, ts_ms, ledger);
  }
  Result<std::optional<Target>> target = load_target(request.room, request.target);
  if (!target) return std::move(target).error();
  Reactions reactions;
  if (request.kind == EntryKind::kReact || request.kind == EntryKind::kUnreact) {
    Result<Reactions> r = reactions_of(request);
    if (!r) return std::move(r).error();
    reactions = *r;
  }
  Result<std::optional<AppendResult>> verdict = check(request, *target, reactions);
  if (!verdict) return std::move(verdict).error();
  if (*verdict) return **verdict;

  const uint64_t id = ledger.get(request.room).last_id + 1;
  AppendResult result{.id = id, .ts_ms = ts_ms};
  if (request.kind == EntryKind::kMessage) {
    const Target& t = **target;
    result.quote = StoredQuote{
        t.user_id, t.sender_name,
        t.deleted ? std::string() : std::string(first_code_points(t.text, options_.quote_chars)),
        t.deleted};
    result.reply_to = request.target;
  } else if (request.kind == EntryKind::kReact) {
    result.count = static_cast<uint32_t>(reactions.emoji_count + 1);
  } else if (request.kind == EntryKind::kUnreact) {
    result.count = static_cast<uint32_t>(reactions.emoji_count - 1);
  }
  if (Status inserted = insert_row(request, id, ts_ms, result); !inserted) return inserted.error();
  if (Status applied = apply(request, id, ts_ms, reactions); !applied) return applied.error();
  counted(request, id, ledger);
  return result;
}

Result<AppendResult> LogWriter::insert_message(const AppendRequest& request, int64_t ts_ms,
                                               RoomLedger& ledger) {
  const uint64_t id = ledger.get(request.room).last_id + 1;
  AppendResult result{.id = id, .ts_ms = ts_ms};
  if (Status inserted = insert_row(request, id, ts_ms, result); !inserted) return inserted.error();
  counted(request, id, ledger);
  return result;
}

void LogWriter::counted(const AppendRequest& request, uint64_t id, RoomLedger& ledger) {
  RoomState& room = ledger.change(request.room);
  room.last_id = id;
  room.messages += 1;
  room.bytes += stored_bytes(request);
}

Result<std::optional<AppendResult>> LogWriter::find_original(const AppendRequest& request) {
  if (request.client_id.empty()) return std::optional<AppendResult>();
  find_original_.bind(1, request.room);
  find_original_.bind(2, request.user_id);
  find_original_.bind(3, request.client_id);
  Result<bool> row = find_original_.next();
  std::optional<AppendResult> found;
  if (row && *row) {
    found = AppendResult{
        .id = static_cast<uint64_t>(find_original_.column_int64(0)),
        .ts_ms = find_original_.column_int64(1),
        .duplicate = true,
        .quote = StoredQuote{find_original_.column_text(2), find_original_.column_text(3),
                             find_original_.column_text(4), find_original_.column_int64(5) != 0},
        .count = static_cast<uint32_t>(find_original_.column_int64(6)),
        .reply_to = static_cast<uint64_t>(find_original_.column_int64(7))};
  }
  find_original_.reset();
  if (!row) return std::move(row).error();
  return found;
}

Result<std::optional<LogWriter::Target>> LogWriter::load_target(const std::string& room,
                                                                uint64_t id) {
  target_.bind(1, room);
  target_.bind(2, static_cast<int64_t>(id));
  Result<bool> row = target_.next();
  std::optional<Target> found;
  if (row && *row) {
    found = Target{static_cast<uint8_t>(target_.column_int64(0)),
                   target_.column_int64(1),
                   target_.column_text(2),
                   target_.column_text(3),
                   target_.column_text(4),
                   target_.column_int64(5) != 0};
  }
  target_.reset();
  if (!row) return std::move(row).error();
  return found;
}

Result<LogWriter::Reactions> LogWriter::reactions_of(const AppendRequest& request) {
  reactions_.bind(1, request.room);
  reactions_.bind(2, static_cast<int64_t>(request.target));
  reactions_.bind(3, request.text);
  reactions_.bind(4, request.user_id);
  Result<bool> row = reactions_.next();
  Reactions r;
  if (row && *row) {
    r = Reactions{reactions_.column_int64(0) != 0,
                  static_cast<uint64_t>(reactions_.column_int64(1)),
                  static_cast<uint64_t>(reactions_.column_int64(2)),
                  static_cast<uint64_t>(reactions_.column_int64(3)),
                  static_cast<uint64_t>(reactions_.column_int64(4))};
  }
  reactions_.reset();
  if (!row) return std::move(row).error();
  return r;
}

Result<std::optional<AppendResult>> LogWriter::check(const AppendRequest& request,
                                                     const std::optional<Target>& target,
                                                     const Reactions& r) const {
  using Verdict = std::optional<AppendResult>;
  if (!target || target->kind != static_cast<uint8_t>(EntryKind::kMessage)) {
    return Verdict(refused(Refusal::kNotFound));
  }
  const bool reaction = request.kind == EntryKind::kReact || request.kind == EntryKind::kUnreact;
  switch (request.kind) {
    case EntryKind::kMessage:
      return Verdict();  // a reply: quotes deleted messages too
    case EntryKind::kEdit:
    case EntryKind::kDelete:
      if (target->user_id != request.user_id) return Verdict(refused(Refusal::kNotAuthor));
      break;
    case EntryKind::kReact:
    case EntryKind::kUnreact:
      break;
  }
  if (target->deleted) return Verdict(refused(Refusal::kDeleted));
  if (!reaction) return Verdict();
  const bool nothing_to_do = request.kind == EntryKind::kReact ? r.present : !r.present;
  if (nothing_to_do) {
    return Verdict(AppendResult{.id = request.target, .ts_ms = target->ts_ms, .duplicate = true});
  }
  if (request.kind == EntryKind::kReact &&
      ((r.emoji_count == 0 && r.kinds >= options_.max_reaction_emoji) ||
       r.total >= options_.max_reactions)) {
    return Verdict(refused(Refusal::kLimitReached));
  }
  return Verdict();
}

void bind_message_columns(SqliteStatement& insert, const AppendRequest& request, uint64_t id,
                          int64_t ts_ms) {
  insert.bind(1, request.room);
  insert.bind(2, static_cast<int64_t>(id));
  insert.bind(3, ts_ms);
  insert.bind(4, request.user_id);
  insert.bind(5, request.sender_name);
  insert.bind(6, request.client_id);
  insert.bind(7, request.text);
}

Status LogWriter::insert_row(const AppendRequest& request, uint64_t id, int64_t ts_ms,
                             const AppendResult& result) {
  bind_message_columns(insert_, request, id, ts_ms);
  insert_.bind(8, static_cast<int64_t>(request.kind));
  insert_.bind(9, static_cast<int64_t>(request.target));
  insert_.bind(10, result.quote.user_id);
  insert_.bind(11, result.quote.sender_name);
  insert_.bind(12, result.quote.text);
  insert_.bind(13, int64_t{result.quote.deleted ? 1 : 0});
  insert_.bind(14, static_cast<int64_t>(result.count));
  const StoredAttachment& a = request.attachment;
  insert_.bind(15, a.file);
  insert_.bind(16, a.name);
  insert_.bind(17, static_cast<int64_t>(a.size));
  insert_.bind(18, a.type);
  insert_.bind(19, static_cast<int64_t>(a.width));
  insert_.bind(20, static_cast<int64_t>(a.height));
  return insert_.run();
}

Status LogWriter::apply(const AppendRequest& request, uint64_t id, int64_t ts_ms,
                        const Reactions& reactions) {
  const auto room = std::string_view(request.room);
  const auto target = static_cast<int64_t>(request.target);
  const auto rev = static_cast<int64_t>(id);
  auto run = [&](SqliteStatement& s, auto... more) {
    s.bind(1, room);
    s.bind(2, target);
    int index = 3;
    (s.bind(index++, more), ...);
    return s.run();
  };
  switch (request.kind) {
    case EntryKind::kMessage:
      return {};
    case EntryKind::kEdit:
      return run(edit_, std::string_view(request.text), ts_ms, rev);
    case EntryKind::kDelete: {
      Status s = run(delete_, rev);
      if (s) s = run(drop_reactions_);
      if (s) s = run(forget_quotes_);
      return s;
    }
    case EntryKind::kReact: {
      const auto emoji_seq =
          static_cast<int64_t>(reactions.emoji_seq != 0 ? reactions.emoji_seq : id);
      Status s = run(add_reaction_, std::string_view(request.text),
                     std::string_view(request.user_id), rev, emoji_seq);
      if (s) s = run(set_rev_, rev);
      return s;
    }
    case EntryKind::kUnreact: {
      Status s =
          run(remove_reaction_, std::string_view(request.text), std::string_view(request.user_id));
      if (s) s = run(set_rev_, rev);
      return s;
    }
  }
  return {};
}

}  // namespace parley::store
