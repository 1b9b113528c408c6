#include "store/message_log_reader.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

#include "text/unicode.h"

namespace parley::store {
namespace {

#define PARLEY_ROW_COLUMNS                                                                    \
  "id, ts_ms, user_id, sender_name, client_id, text, kind, target, edited_ms, deleted, rev, " \
  "quote_user, quote_from, quote_text, quote_deleted, count, "                                \
  "file, file_name, file_size, file_type, file_width, file_height"

// Every entry: the (room, id) index. Messages only: the partial messages_only index.
constexpr const char* kNewestSql = "SELECT " PARLEY_ROW_COLUMNS
                                   " FROM messages WHERE room = ?1 AND id > ?2 AND id < ?3 "
                                   "ORDER BY id DESC LIMIT ?4";
constexpr const char* kOldestSql = "SELECT " PARLEY_ROW_COLUMNS
                                   " FROM messages WHERE room = ?1 AND id > ?2 AND id < ?3 "
                                   "ORDER BY id ASC LIMIT ?4";
constexpr const char* kNewestMessagesSql =
    "SELECT " PARLEY_ROW_COLUMNS
    " FROM messages WHERE room = ?1 AND kind = 0 AND id > ?2 AND id < ?3 "
    "ORDER BY id DESC LIMIT ?4";
constexpr const char* kOldestMessagesSql =
    "SELECT " PARLEY_ROW_COLUMNS
    " FROM messages WHERE room = ?1 AND kind = 0 AND id > ?2 AND id < ?3 "
    "ORDER BY id ASC LIMIT ?4";
// Each an index seek (min and max of one index are optimized only in separate SELECTs).
constexpr const char* kBoundsSql =
    "SELECT (SELECT min(id) FROM messages WHERE room = ?1), "
    "(SELECT max(id) FROM messages WHERE room = ?1)";
// Emoji in order of appearance, users in order of reacting.
constexpr const char* kReactionsInRangeSql =
    "SELECT msg_id, emoji, user_id FROM reactions WHERE room = ?1 AND msg_id >= ?2 "
    "AND msg_id <= ?3 ORDER BY msg_id, emoji_seq, seq";
constexpr const char* kReactionsOfSql =
    "SELECT msg_id, emoji, user_id FROM reactions WHERE room = ?1 AND msg_id = ?2 "
    "ORDER BY emoji_seq, seq";
// Newest first by rowid (arrival order, so id order within a room): FTS5 walks the rows holding
// every trigram of the query in that order, parley_contains keeps those whose text holds the
// query, and the LIMIT stops the walk.
constexpr const char* kMatchSql =
    "SELECT m.id, m.ts_ms, m.user_id, m.sender_name, m.client_id, m.text, m.kind, m.target,"
    " m.edited_ms, m.deleted, m.rev, m.quote_user, m.quote_from, m.quote_text,"
    " m.quote_deleted, m.count, m.file, m.file_name, m.file_size, m.file_type, m.file_width,"
    " m.file_height "
    "FROM messages_fts JOIN messages AS m ON m.rowid = messages_fts.rowid "
    "WHERE messages_fts MATCH ?1 AND m.room = ?2 AND m.id < ?3 AND parley_contains(m.text, ?5) "
    "ORDER BY messages_fts.rowid DESC LIMIT ?4";
// The lowest id of the window a short query scans, when the window is full.
constexpr const char* kScanBoundSql =
    "SELECT id FROM messages WHERE room = ?1 AND kind = 0 AND id < ?2 "
    "ORDER BY id DESC LIMIT 1 OFFSET ?3";
constexpr const char* kScanSql =
    "SELECT " PARLEY_ROW_COLUMNS
    " FROM messages WHERE room = ?1 AND kind = 0 AND deleted = 0 AND id < ?2 AND id >= ?3 "
    "AND parley_contains(text, ?4) ORDER BY id DESC LIMIT ?5";
#undef PARLEY_ROW_COLUMNS

constexpr uint64_t kMaxSqlInteger = std::numeric_limits<int64_t>::max();

int64_t to_sql_integer(uint64_t value) {
  return static_cast<int64_t>(std::min(value, kMaxSqlInteger));
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

// Unicode full case folding, as MemoryHistory does it (unicode::casefold); nothing for text
// that is not UTF-8.
std::optional<std::string> fold(std::string_view text) {
  Result<std::string> folded = unicode::casefold(text);
  if (!folded) return std::nullopt;
  return *std::move(folded);
}

// parley_contains(text, needle): whether `text`, case folded, contains `needle` (folded by the
// caller). NULL or text that is not UTF-8: false.
void contains_function(sqlite3_context* context, int, sqlite3_value** argv) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const auto* needle = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  bool found = false;
  if (text != nullptr && needle != nullptr) {
    std::optional<std::string> folded =
        fold(std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[0]))));
    found = folded && folded->find(needle) != std::string::npos;
  }
  sqlite3_result_int(context, found ? 1 : 0);
}

// The byte offsets at which the code points of UTF-8 `text` start.
std::vector<std::size_t> code_point_starts(std::string_view text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) starts.push_back(i);
  }
  return starts;
}

// The FTS5 query for the rows holding every trigram of `query` (3 or more code points): its
// trigrams at every third code point and the last one, each a quoted string, ANDed (without
// positions the index cannot match a phrase). Those cover every code point of the query.
std::string trigrams_of(std::string_view query) {
  const std::vector<std::size_t> starts = code_point_starts(query);
  std::string out;
  auto add = [&](std::size_t first) {
    const std::size_t end = first + 3 < starts.size() ? starts[first + 3] : query.size();
    if (!out.empty()) out += " AND ";
    out += '"';
    for (char c : query.substr(starts[first], end - starts[first])) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  };
  for (std::size_t i = 0; i + 3 <= starts.size(); i += 3) add(i);
  if (starts.size() % 3 != 0) add(starts.size() - 3);
  return out;
}

}  // namespace

Status LogReader::prepare(sqlite3* db) {
  const int created =
      sqlite3_create_function_v2(db, "parley_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 nullptr, contains_function, nullptr, nullptr, nullptr);
  if (created != SQLITE_OK) return Error(Errc::Internal, "cannot register parley_contains");
  const std::pair<SqliteStatement*, const char*> statements[] = {
      {&newest_, kNewestSql},
      {&oldest_, kOldestSql},
      {&newest_messages_, kNewestMessagesSql},
      {&oldest_messages_, kOldestMessagesSql},
      {&bounds_, kBoundsSql},
      {&reactions_in_range_, kReactionsInRangeSql},
      {&reactions_of_, kReactionsOfSql},
      {&match_, kMatchSql},
      {&scan_bound_, kScanBoundSql},
      {&scan_, kScanSql},
  };
  for (auto [statement, sql] : statements) {
    if (Status prepared = statement->prepare(db, sql); !prepared) return prepared;
  }
  return {};
}

StoredMessage LogReader::row(const SqliteStatement& s, const std::string& room) const {
  return StoredMessage{
      .room = room,
      .id = static_cast<uint64_t>(s.column_int64(0)),
      .ts_ms = s.column_int64(1),
      .user_id = s.column_text(2),
      .sender_name = s.column_text(3),
      .client_id = s.column_text(4),
      .text = s.column_text(5),
      .kind = static_cast<uint8_t>(s.column_int64(6)),
      .target = static_cast<uint64_t>(s.column_int64(7)),
      .edited_ms = s.column_int64(8),
      .deleted = s.column_int64(9) != 0,
      .rev = static_cast<uint64_t>(s.column_int64(10)),
      .quote = StoredQuote{s.column_text(11), s.column_text(12), s.column_text(13),
                           s.column_int64(14) != 0},
      .count = static_cast<uint32_t>(s.column_int64(15)),
      .attachment = StoredAttachment{s.column_text(16), s.column_text(17),
                                     static_cast<uint64_t>(s.column_int64(18)), s.column_text(19),
                                     static_cast<uint32_t>(s.column_int64(20)),
                                     static_cast<uint32_t>(s.column_int64(21))}};
}

Status LogReader::collect(SqliteStatement& s, const std::string& room, std::size_t limit,
                          std::vector<StoredMessage>& out, bool& more) {
  Result<bool> next = s.next();
  for (; next && *next; next = s.next()) {
    if (out.size() == limit) {
      more = true;
      break;
    }
    out.push_back(row(s, room));
  }
  s.reset();
  if (!next) return std::move(next).error();
  return {};
}

Result<HistoryPage> LogReader::page(const std::string& room, const Range& r) {
  SqliteStatement& s = r.messages_only ? (r.oldest_first ? oldest_messages_ : newest_messages_)
                                       : (r.oldest_first ? oldest_ : newest_);
  const uint64_t limit = std::min<uint64_t>(r.limit, kMaxSqlInteger - 1);
  s.bind(1, room);
  s.bind(2, to_sql_integer(r.after_id));
  s.bind(3, to_sql_integer(r.before_id));
  s.bind(4, static_cast<int64_t>(limit + 1));
  HistoryPage page;
  if (Status read = collect(s, room, limit, page.messages, page.truncated); !read) {
    return read.error();
  }
  if (!r.oldest_first) std::reverse(page.messages.begin(), page.messages.end());
  if (r.messages_only) {
    bounds_.bind(1, room);
    Result<bool> read = bounds_.next();
    if (read && *read) {
      page.first_entry = static_cast<uint64_t>(bounds_.column_int64(0));
      page.last_entry = static_cast<uint64_t>(bounds_.column_int64(1));
    }
    bounds_.reset();
    if (!read) return std::move(read).error();
  }
  if (Status read = attach_reactions(room, page.messages); !read) return read.error();
  return page;
}

Status LogReader::attach_reactions(const std::string& room, std::vector<StoredMessage>& rows) {
  std::unordered_map<uint64_t, StoredMessage*> messages;
  uint64_t low = UINT64_MAX, high = 0;
  for (StoredMessage& m : rows) {
    if (m.kind != 0 || m.deleted) continue;
    messages.emplace(m.id, &m);
    low = std::min(low, m.id);
    high = std::max(high, m.id);
  }
  if (messages.empty()) return {};
  // A page is a range of ids: one range scan. Scattered search results: one seek each.
  const bool range = rows.size() > 1 && rows.front().id <= rows.back().id;
  auto read = [&](SqliteStatement& s) -> Status {
    Result<bool> next = s.next();
    for (; next && *next; next = s.next()) {
      auto it = messages.find(static_cast<uint64_t>(s.column_int64(0)));
      if (it == messages.end()) continue;
      std::vector<StoredReaction>& reactions = it->second->reactions;
      std::string emoji = s.column_text(1);
      if (reactions.empty() || reactions.back().emoji != emoji) {
        reactions.push_back(StoredReaction{std::move(emoji), {}});
      }
      reactions.back().users.push_back(s.column_text(2));
    }
    s.reset();
    if (!next) return std::move(next).error();
    return {};
  };
  if (range) {
    reactions_in_range_.bind(1, room);
    reactions_in_range_.bind(2, to_sql_integer(low));
    reactions_in_range_.bind(3, to_sql_integer(high));
    return read(reactions_in_range_);
  }
  for (const auto& [id, message] : messages) {
    reactions_of_.bind(1, room);
    reactions_of_.bind(2, to_sql_integer(id));
    if (Status s = read(reactions_of_); !s) return s;
  }
  return {};
}

Result<SearchPage> LogReader::search(const std::string& room, const std::string& query,
                                     uint64_t before, std::size_t limit) {
  if (before == 0) before = UINT64_MAX;
  std::optional<std::string> needle = fold(query);
  if (!needle || needle->empty()) return SearchPage{};
  Result<SearchPage> page = code_points(query) >= 3
                                ? search_index(room, query, *needle, before, limit)
                                : search_scan(room, *needle, before, limit);
  if (page) {
    if (Status read = attach_reactions(room, page->messages); !read) return read.error();
  }
  return page;
}

Result<SearchPage> LogReader::search_index(const std::string& room, const std::string& query,
                                           const std::string& needle, uint64_t before,
                                           std::size_t limit) {
  const std::string match = trigrams_of(query);
  match_.bind(1, match);
  match_.bind(2, room);
  match_.bind(3, to_sql_integer(before));
  match_.bind(4, static_cast<int64_t>(limit + 1));
  match_.bind(5, needle);
  SearchPage page;
  if (Status read = collect(match_, room, limit, page.messages, page.truncated); !read) {
    return read.error();
  }
  if (page.truncated) page.next = page.messages.back().id;
  return page;
}

Result<SearchPage> LogReader::search_scan(const std::string& room, const std::string& needle,
                                          uint64_t before, std::size_t limit) {
  scan_bound_.bind(1, room);
  scan_bound_.bind(2, to_sql_integer(before));
  scan_bound_.bind(3, static_cast<int64_t>(kShortQueryScan - 1));
  Result<bool> bounded = scan_bound_.next();
  const uint64_t bound =
      bounded && *bounded ? static_cast<uint64_t>(scan_bound_.column_int64(0)) : 0;
  scan_bound_.reset();
  if (!bounded) return std::move(bounded).error();

  scan_.bind(1, room);
  scan_.bind(2, to_sql_integer(before));
  scan_.bind(3, to_sql_integer(bound));
  scan_.bind(4, needle);
  scan_.bind(5, static_cast<int64_t>(limit + 1));
  SearchPage page;
  if (Status read = collect(scan_, room, limit, page.messages, page.truncated); !read) {
    return read.error();
  }
  if (page.truncated) {
    page.next = page.messages.back().id;
  } else if (bound > 1) {
    // The window was full: older messages may match; the next page scans below it.
    page.truncated = true;
    page.next = bound;
  }
  return page;
}

}  // namespace parley::store
