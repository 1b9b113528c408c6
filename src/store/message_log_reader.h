// The room's log on the reader's side: pages of entries (every row, or messages only) with
// each message's reactions, and search (docs/PROTOCOL.md "Search"). Used by HistoryReader on its
// own read-only connection; every query is one range scan of an index plus a row lookup per
// result.
//
// Search (case folded the way unicode::casefold and MemoryHistory fold it: Unicode full
// case folding, by utf8proc, in the SQL function parley_contains registered on the connection):
// - a query of 3 or more code points goes to the FTS5 trigram index (messages_fts, schema step
//   3, without positions): the rows holding every trigram of the query (the index folds case
//   itself, by Unicode simple folding), walked newest first (by rowid, which is arrival order
//   and so id order within a room), joined back to their rows, and kept when their text holds
//   the query. Cost: the candidates newer than the cursor, in every room, until `limit` of this
//   room are found;
// - a shorter one (1-2 code points, common in Chinese and Japanese) has no trigram: a scan of
//   at most kShortQueryScan of the room's messages below the cursor, newest first; `next` then
//   continues below what was scanned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/sqlite_statement.h"
#include "store/stored_message.h"

namespace parley::store {

inline constexpr std::size_t kShortQueryScan = 10000;

class LogReader {
 public:
  Status prepare(sqlite3* db);

  // At most `limit` rows of `room` with after_id < id < before_id: the newest of them, or the
  // oldest when `oldest_first`; all entries, or messages only. Ascending id order.
  struct Range {
    uint64_t after_id = 0;
    uint64_t before_id = UINT64_MAX;
    std::size_t limit = 0;
    bool oldest_first = false;
    bool messages_only = false;
  };
  Result<HistoryPage> page(const std::string& room, const Range& range);
  // `before` 0: from the newest.
  Result<SearchPage> search(const std::string& room, const std::string& query, uint64_t before,
                            std::size_t limit);

 private:
  StoredMessage row(const SqliteStatement& s, const std::string& room) const;
  // Reads up to `limit` + 1 rows of a bound statement: truncated when there is one more.
  Status collect(SqliteStatement& s, const std::string& room, std::size_t limit,
                 std::vector<StoredMessage>& out, bool& more);
  Status attach_reactions(const std::string& room, std::vector<StoredMessage>& messages);
  // `needle`: the query case folded.
  Result<SearchPage> search_index(const std::string& room, const std::string& query,
                                  const std::string& needle, uint64_t before, std::size_t limit);
  Result<SearchPage> search_scan(const std::string& room, const std::string& needle,
                                 uint64_t before, std::size_t limit);

  SqliteStatement newest_;
  SqliteStatement oldest_;
  SqliteStatement newest_messages_;
  SqliteStatement oldest_messages_;
  SqliteStatement bounds_;
  SqliteStatement reactions_in_range_;
  SqliteStatement reactions_of_;
  SqliteStatement match_;
  SqliteStatement scan_bound_;
  SqliteStatement scan_;
};

}  // namespace parley::store
