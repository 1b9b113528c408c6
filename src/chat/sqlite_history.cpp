#include "chat/sqlite_history.h"

#include "store/history_store.h"

namespace parley::chat {
namespace {

Message from_row(store::StoredMessage&& row) {
  return Message{row.id,
                 row.ts_ms,
                 std::move(row.user_id),
                 std::move(row.sender_name),
                 std::move(row.client_id),
                 std::move(row.text)};
}

}  // namespace

void SqliteHistory::append(const std::string& room, const Message& m, AppendDone done) {
  store::AppendRequest row{room, m.user, m.from, m.client_id, m.text, m.ts_ms};
  store_.append(std::move(row), [done = std::move(done)](const store::AppendResult& r) {
    if (!r.ok) {
      done(Error{Errc::Unavailable, r.error});
      return;
    }
    done(Appended{r.id, r.ts_ms, r.duplicate});
  });
}

void SqliteHistory::read(const std::string& room, const PageQuery& q, PageDone done) {
  auto convert = [done = std::move(done)](store::HistoryPage rows) {
    if (!rows.error.empty()) {
      done(Error{Errc::Unavailable, rows.error});
      return;
    }
    Page page;
    page.truncated = rows.truncated;
    page.messages.reserve(rows.messages.size());
    for (auto& row : rows.messages) page.messages.push_back(from_row(std::move(row)));
    done(std::move(page));
  };
  switch (q.from) {
    case PageQuery::From::Newest:
      store_.recent(room, q.limit, std::move(convert));
      return;
    case PageQuery::From::Before:
      store_.before(room, q.anchor, q.limit, std::move(convert));
      return;
    case PageQuery::From::After:
      store_.after(room, q.anchor, q.limit, std::move(convert));
      return;
  }
}

std::vector<std::pair<std::string, uint64_t>> SqliteHistory::last_ids() const {
  return store_.last_ids();
}

Status SqliteHistory::health() const {
  return {};  // the store reports its health once it can (issue 7, item 10)
}

}  // namespace parley::chat
