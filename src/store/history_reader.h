// The thread that answers history page queries, on its own read-only connection. In WAL mode a
// reader sees the last committed state and neither waits for the writer nor holds it up.
// A failed read reaches its caller as an Error (never as an empty page), is logged and counted,
// and makes the store unhealthy until a read succeeds again.
//
// Order: one read at a time, round-robin between rooms and, within a room, between lanes
// (HistoryStore::ReadTag; the chat uses one per connection), FIFO within a lane. So a read
// waits behind at most one read of each other room with reads waiting (and, in its own room,
// one of each other lane), however many one room or one connection queued. A read whose tag
// was cancelled before its turn is answered Closed without running.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "base/result.h"
#include "store/history_store.h"
#include "store/message_log_reader.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store/store_health.h"
#include "store/work_queue.h"

namespace parley::store {

class HistoryReader {
 public:
  // At most `limit` rows of `room` with after_id < id < before_id: the newest of them, or
  // the oldest when `oldest_first` (paging forward); every entry, or messages only.
  struct PageQuery {
    std::string room{};
    uint64_t after_id = 0;
    uint64_t before_id = UINT64_MAX;
    std::size_t limit = 0;
    bool oldest_first = false;
    HistoryStore::PageDone done{};
    bool messages_only = false;
    HistoryStore::ReadTag tag{};
  };
  // A search (message_log_reader.h).
  struct SearchQuery {
    std::string room{};
    std::string query{};
    uint64_t before = 0;
    std::size_t limit = 0;
    HistoryStore::SearchDone done{};
    HistoryStore::ReadTag tag{};
  };

  // `file` must already exist in WAL mode (the writer opens it first).
  static Result<std::unique_ptr<HistoryReader>> start(const std::filesystem::path& file,
                                                      std::chrono::milliseconds busy_timeout,
                                                      StoreHealth& health, StoreCounters& counters);

  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;
  // Answers what is queued, then joins and closes.
  ~HistoryReader();

  // Answered on the reader thread, in the order above.
  void query(PageQuery query);
  void search(SearchQuery query);

 private:
  HistoryReader(SqliteDatabase db, StoreHealth& health, StoreCounters& counters)
      : db_(std::move(db)), health_(health), counters_(counters) {}
  using Task = std::variant<PageQuery, SearchQuery>;
  template <class Query>
  void submit(Query query);
  void run();
  void answer(PageQuery& query);
  void answer(SearchQuery& query);
  template <class T>
  void count(const Result<T>& result);
  // A cancelled read is answered Closed here (and counted); true when it was.
  template <class Query>
  bool dropped(Query& query);

  SqliteDatabase db_;
  StoreHealth& health_;
  StoreCounters& counters_;
  LogReader log_;
  WorkQueue<Task> queue_;
  std::thread thread_;
};

}  // namespace parley::store
