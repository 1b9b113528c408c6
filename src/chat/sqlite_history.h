// History in SQLite (store::HistoryStore): the durable default. This file is
// the store boundary: chat::Message in, store rows out, and back.
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
