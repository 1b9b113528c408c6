// The thread that answers history page queries, on its own read-only connection. In WAL mode a
// reader sees the last committed state and neither waits for the writer nor holds it up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "store/history_store.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store/work_queue.h"

namespace parley::store {

class HistoryReader {
 public:
  // At most `limit` messages of `room` with after_id < id < before_id: the newest of them, or
  // the oldest when `oldest_first` (paging forward).
  struct PageQuery {
    std::string room{};
    uint64_t after_id = 0;
    uint64_t before_id = UINT64_MAX;
    std::size_t limit = 0;
    bool oldest_first = false;
    HistoryStore::PageDone done{};
  };

  // `file` must already exist in WAL mode (the writer opens it first).
  static std::variant<std::unique_ptr<HistoryReader>, std::string> start(
      const std::filesystem::path& file, std::chrono::milliseconds busy_timeout);

  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;
  // Answers what is queued, then joins and closes.
  ~HistoryReader();

  // Answered in FIFO order on the reader thread.
  void query(PageQuery query);

 private:
  explicit HistoryReader(SqliteDatabase db) : db_(std::move(db)) {}
  void run();
  HistoryPage read_page(const PageQuery& query);

  SqliteDatabase db_;
  SqliteStatement newest_page_;
  SqliteStatement oldest_page_;
  WorkQueue<PageQuery> queue_;
  std::thread thread_;
};

}  // namespace parley::store
