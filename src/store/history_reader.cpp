#include "store/history_reader.h"

#include <pthread.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace parley::store {
namespace {

// Both are one range scan of the (room, id) index plus a row lookup per message. One row more
// than asked tells whether the range holds more (truncated) without a second COUNT query.
constexpr const char* kNewestPageSql =
    "SELECT id, ts_ms, user_id, sender_name, client_id, text FROM messages "
    "WHERE room = ?1 AND id > ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4";
constexpr const char* kOldestPageSql =
    "SELECT id, ts_ms, user_id, sender_name, client_id, text FROM messages "
    "WHERE room = ?1 AND id > ?2 AND id < ?3 ORDER BY id ASC LIMIT ?4";

constexpr uint64_t kMaxSqlInteger = std::numeric_limits<int64_t>::max();

int64_t to_sql_integer(uint64_t value) {
  return static_cast<int64_t>(std::min(value, kMaxSqlInteger));
}

// Bounds the memory reserved up front; a page may still grow past it.
constexpr std::size_t kMaxReserve = 1024;

}  // namespace

Result<std::unique_ptr<HistoryReader>> HistoryReader::start(const std::filesystem::path& file,
                                                            std::chrono::milliseconds busy_timeout,
                                                            StoreHealth& health,
                                                            StoreCounters& counters) {
  Result<SqliteDatabase> opened =
      SqliteDatabase::open(file, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!opened) return std::move(opened).error();
  std::unique_ptr<HistoryReader> reader(
      new HistoryReader(std::move(opened).value(), health, counters));
  // A WAL reader only waits while another connection recovers the WAL after a crash.
  reader->db_.set_busy_timeout(busy_timeout);
  for (auto [statement, sql] : {std::pair{&reader->newest_page_, kNewestPageSql},
                                std::pair{&reader->oldest_page_, kOldestPageSql}}) {
    if (Status prepared = statement->prepare(reader->db_.handle(), sql); !prepared) {
      return prepared.error();
    }
  }
  reader->thread_ = std::thread(&HistoryReader::run, reader.get());
  // Named for top -H, perf and gdb.
  pthread_setname_np(reader->thread_.native_handle(), "store-reader");
  return reader;
}

HistoryReader::~HistoryReader() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void HistoryReader::query(PageQuery query) {
  if (queue_.push(std::move(query)) != WorkQueue<PageQuery>::PushResult::kQueued && query.done) {
    query.done(Error(Errc::Closed, "history store: closed"));
  }
}

void HistoryReader::run() {
  std::vector<PageQuery> queries;
  constexpr std::size_t kQueriesPerTake = 64;
  while (queue_.pop_batch(queries, kQueriesPerTake)) {
    for (const PageQuery& query : queries) {
      Result<HistoryPage> page = read_page(query);
      if (page) {
        StoreCounters::add(counters_.reads, 1);
        health_.succeeded(StoreHealth::Source::kRead);
      } else {
        StoreCounters::add(counters_.read_errors, 1);
        health_.failed(StoreHealth::Source::kRead, page.error());
      }
      if (query.done) query.done(std::move(page));
    }
  }
}

Result<HistoryPage> HistoryReader::read_page(const PageQuery& query) {
  SqliteStatement& statement = query.oldest_first ? oldest_page_ : newest_page_;
  HistoryPage page;
  const uint64_t limit = std::min<uint64_t>(query.limit, kMaxSqlInteger - 1);
  page.messages.reserve(std::min<std::size_t>(query.limit, kMaxReserve));
  statement.bind(1, query.room);
  statement.bind(2, to_sql_integer(query.after_id));
  statement.bind(3, to_sql_integer(query.before_id));
  statement.bind(4, static_cast<int64_t>(limit + 1));
  Result<bool> row = statement.next();
  for (; row && *row; row = statement.next()) {
    if (page.messages.size() == limit) {
      page.truncated = true;
      break;
    }
    page.messages.push_back(StoredMessage{.room = query.room,
                                          .id = static_cast<uint64_t>(statement.column_int64(0)),
                                          .ts_ms = statement.column_int64(1),
                                          .user_id = statement.column_text(2),
                                          .sender_name = statement.column_text(3),
                                          .client_id = statement.column_text(4),
                                          .text = statement.column_text(5)});
  }
  statement.reset();
  if (!row) return with_context("history store: read failed", row.error());
  if (!query.oldest_first) std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

}  // namespace parley::store
