// History in SQLite (store::HistoryStore): the durable default. This file is
// the store boundary: chat::Message in, store rows out, and back. Every
// promise of chat/history.h is kept in the store's writer transaction
// (store/message_log_writer.h: changes, replies, dedup) and reader
// (store/message_log_reader.h: pages, FTS5 search); the answers are those of
// MemoryHistory for the same log (tests/unit/chat_sqlite_history_test.cpp).
// `around` is two reads of the reader thread, the older half then the newer.
#pragma once

#include "chat/history.h"

namespace parley::store {
class HistoryStore;
}  // namespace parley::store

namespace parley::chat {

class SqliteHistory final : public History {
 public:
  explicit SqliteHistory(store::HistoryStore& store) : store_(store) {}

  void append(const std::string& room, const Message& message, AppendDone done) override;
  void read(const std::string& room, const PageQuery& query, PageDone done) override;
  void search(const std::string& room, const SearchQuery& query, SearchDone done) override;
  std::vector<std::pair<std::string, uint64_t>> last_ids() const override;
  Status health() const override;

 private:
  void read_around(const std::string& room, const PageQuery& query, PageDone done);

  store::HistoryStore& store_;
};

}  // namespace parley::chat
