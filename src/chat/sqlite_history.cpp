#include "chat/sqlite_history.h"

#include <memory>

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
  if (!m.is_message() || m.reply.id != 0 || !m.attachment.empty()) {
    // TODO(features): the store's log (schema step with kinds, quotes,
    // reactions and FTS5) lands after the store's Result conversion.
    // TODO(uploads): an `attachment` column (file, name, size, type, width,
    // height) in that schema step; until then files need --history off.
    done(Error{Errc::Unavailable, "this history store does not keep changes or replies yet"});
    return;
  }
  store::AppendRequest row{room, m.user, m.from, m.client_id, m.text, m.ts_ms};
  store_.append(std::move(row), [done = std::move(done)](const store::AppendResult& r) {
    if (!r.ok) {
      done(Error{Errc::Unavailable, r.error});
      return;
    }
    done(Appended{r.id, r.ts_ms, r.duplicate});
  });
}

Page SqliteHistory::to_page(store::HistoryPage&& rows) {
  Page page;
  page.truncated = rows.truncated;
  page.messages.reserve(rows.messages.size());
  for (auto& row : rows.messages) page.messages.push_back(from_row(std::move(row)));
  return page;
}

void SqliteHistory::read(const std::string& room, const PageQuery& q, PageDone done) {
  auto convert = [done](store::HistoryPage rows) {
    if (!rows.error.empty()) return done(Error{Errc::Unavailable, rows.error});
    done(to_page(std::move(rows)));
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
    case PageQuery::From::Around:
      read_around(room, q, std::move(done));
      return;
  }
}

void SqliteHistory::read_around(const std::string& room, const PageQuery& q, PageDone done) {
  // Two reads: the older half, then (queued from the reader thread) the newer.
  const std::size_t newer = q.limit / 2;
  auto second = [this, room, q, newer, done](store::HistoryPage rows) {
    if (!rows.error.empty()) return done(Error{Errc::Unavailable, rows.error});
    auto page = std::make_shared<Page>(to_page(std::move(rows)));
    store_.after(room, q.anchor, newer, [page, done](store::HistoryPage after) {
      if (!after.error.empty()) return done(Error{Errc::Unavailable, after.error});
      for (auto& row : after.messages) page->messages.push_back(from_row(std::move(row)));
      page->newer = after.truncated;
      if (page->messages.empty()) page->truncated = false;
      done(std::move(*page));
    });
  };
  store_.before(room, q.anchor + 1, q.limit - newer, std::move(second));
}

void SqliteHistory::search(const std::string&, const SearchQuery&, SearchDone done) {
  done(Error{Errc::Unavailable, "this history store cannot search yet"});
}

std::vector<std::pair<std::string, uint64_t>> SqliteHistory::last_ids() const {
  return store_.last_ids();
}

Status SqliteHistory::health() const {
  return {};  // the store reports its health once it can (issue 7, item 10)
}

}  // namespace parley::chat
