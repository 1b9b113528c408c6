#include "chat/sqlite_history.h"

#include <memory>

#include "store/history_store.h"

namespace parley::chat {
namespace {

Refusal refusal_of(store::Refusal r) {
  switch (r) {
    case store::Refusal::kNotFound:
      return Refusal::NotFound;
    case store::Refusal::kNotAuthor:
      return Refusal::NotAuthor;
    case store::Refusal::kDeleted:
      return Refusal::Deleted;
    case store::Refusal::kLimitReached:
      return Refusal::LimitReached;
    case store::Refusal::kNone:
      break;
  }
  return Refusal::None;
}

// The chat's and the store's kinds have the same values (store/append_request.h).
EntryKind kind_of(uint8_t kind) {
  return kind <= static_cast<uint8_t>(EntryKind::Unreact) ? static_cast<EntryKind>(kind)
                                                          : EntryKind::Message;
}

Message from_row(store::StoredMessage&& row) {
  Message m{row.id,
            row.ts_ms,
            std::move(row.user_id),
            std::move(row.sender_name),
            std::move(row.client_id),
            std::move(row.text)};
  m.kind = kind_of(row.kind);
  m.count = row.count;
  if (!m.is_message()) {
    m.target = row.target;
    return m;
  }
  if (row.target != 0) {
    m.reply = Quote{row.target, std::move(row.quote.user_id), std::move(row.quote.sender_name),
                    std::move(row.quote.text), row.quote.deleted};
  }
  m.edited_ms = row.edited_ms;
  m.deleted = row.deleted;
  m.rev = row.rev;
  m.reactions.reserve(row.reactions.size());
  for (auto& r : row.reactions)
    m.reactions.push_back(Reaction{std::move(r.emoji), std::move(r.users)});
  return m;
}

std::vector<Message> from_rows(std::vector<store::StoredMessage>&& rows) {
  std::vector<Message> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(from_row(std::move(row)));
  return out;
}

store::HistoryStore::ReadTag tag_of(const ReadFor& reader) {
  return {reader.lane, reader.cancelled};
}

}  // namespace

void SqliteHistory::append(const std::string& room, const Message& m, AppendDone done) {
  if (!m.attachment.empty()) {
    // TODO(uploads): an `attachment` column (file, name, size, type, width,
    // height) in the message log; until then files need --history off or
    // memory, and this engine answers `unsupported` (docs/PROTOCOL.md).
    done(Error{Errc::Invalid, "this history store does not keep attachments yet"});
    return;
  }
  store::AppendRequest row{room, m.user, m.from, m.client_id, m.text, m.ts_ms};
  row.kind = static_cast<store::EntryKind>(m.kind);
  row.target = m.is_message() ? m.reply.id : m.target;
  store_.append(std::move(row), [done = std::move(done)](Result<store::AppendResult> r) {
    if (!r) return done(std::move(r).error());
    if (r->refusal != store::Refusal::kNone) return done(refusal_error(refusal_of(r->refusal)));
    Appended a{r->id, r->ts_ms, r->duplicate, {}, r->count};
    if (r->reply_to != 0) {
      a.reply = Quote{r->reply_to, std::move(r->quote.user_id), std::move(r->quote.sender_name),
                      std::move(r->quote.text), r->quote.deleted};
    }
    done(std::move(a));
  });
}

void SqliteHistory::read(const std::string& room, const PageQuery& q, PageDone done) {
  auto convert = [done](Result<store::HistoryPage> rows) {
    if (!rows) return done(std::move(rows).error());
    Page page{from_rows(std::move(rows->messages)), rows->truncated, false};
    // Messages only: truncated = an entry (a change too) older than the first message.
    if (rows->first_entry != 0) {
      page.truncated = !page.messages.empty() && page.messages.front().id > rows->first_entry;
    }
    done(std::move(page));
  };
  switch (q.from) {
    case PageQuery::From::Newest:
      store_.recent(room, q.limit, std::move(convert), tag_of(q.reader));
      return;
    case PageQuery::From::Before:
      store_.before(room, q.anchor, q.limit, std::move(convert), tag_of(q.reader));
      return;
    case PageQuery::From::After:
      store_.after(room, q.anchor, q.limit, std::move(convert), tag_of(q.reader));
      return;
    case PageQuery::From::Around:
      read_around(room, q, std::move(done));
      return;
  }
}

void SqliteHistory::read_around(const std::string& room, const PageQuery& q, PageDone done) {
  // Two reads: the older half, then (queued from the reader thread) the newer. truncated and
  // newer: entries (changes too) beyond the page's first and last message, as in MemoryHistory.
  const std::size_t newer = q.limit / 2;
  auto second = [this, room, q, newer, done](Result<store::HistoryPage> rows) {
    if (!rows) return done(std::move(rows).error());
    auto page = std::make_shared<Page>(Page{from_rows(std::move(rows->messages))});
    store_.messages_after(
        room, q.anchor, newer,
        [page, done](Result<store::HistoryPage> after) {
          if (!after) return done(std::move(after).error());
          for (auto& m : from_rows(std::move(after->messages)))
            page->messages.push_back(std::move(m));
          if (!page->messages.empty()) {
            page->truncated = page->messages.front().id > after->first_entry;
            page->newer = page->messages.back().id < after->last_entry;
          }
          done(std::move(*page));
        },
        tag_of(q.reader));
  };
  store_.before(room, q.anchor + 1, q.limit - newer, std::move(second), tag_of(q.reader));
}

void SqliteHistory::search(const std::string& room, const SearchQuery& q, SearchDone done) {
  store_.search(
      room, q.text, q.before, q.limit,
      [done](Result<store::SearchPage> found) {
        if (!found) return done(std::move(found).error());
        done(SearchPage{from_rows(std::move(found->messages)), found->truncated, found->next});
      },
      tag_of(q.reader));
}

std::vector<std::pair<std::string, uint64_t>> SqliteHistory::last_ids() const {
  return store_.last_ids();
}

Status SqliteHistory::health() const {
  return store_.health();
}

}  // namespace parley::chat
