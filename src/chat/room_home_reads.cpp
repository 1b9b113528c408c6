// RoomHome: the steps that read the room's history for one member — a
// `history` page, a `search`, and the read behind a `join` — and the store's
// answers to them (on_page, on_searched). See room_home.h.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "chat/events.h"
#include "chat/room_home.h"

namespace parley::chat {

void RoomHome::history(MemberRef who, const PageQuery& query) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) {
    host_.history_done(who);  // left meanwhile: nothing to answer
    return;
  }
  PendingRead read{who, false, std::nullopt, query, m->user()};
  read.query.limit = std::clamp<std::size_t>(query.limit, 1, options_.page_max);
  uint64_t ticket = new_ticket();
  work_.emplace(ticket, std::move(read));
  queue_answer(who, AnswerSlot{AnswerSlot::State::ReadQueued, ticket, nullptr,
                               AnswerSlot::Counted::History, false});
  drain_answers(who);
}

void RoomHome::search(MemberRef who, const SearchQuery& query) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) {
    host_.search_done(who);
    return;
  }
  uint64_t ticket = new_ticket();
  work_.emplace(ticket, PendingSearch{who, query, m->user()});
  queue_answer(who, AnswerSlot{AnswerSlot::State::ReadQueued, ticket, nullptr,
                               AnswerSlot::Counted::Search, false});
  drain_answers(who);
}

// Reads for one connection share one lane of the History's reader.
ReadFor RoomHome::reader_for(MemberRef who, std::shared_ptr<std::atomic<bool>>& cancelled) const {
  cancelled = std::make_shared<std::atomic<bool>>(false);
  return ReadFor{MemberRefHash{}(who), cancelled};
}

void RoomHome::start_read(AnswerSlot& slot) {
  slot.state = AnswerSlot::State::Reading;
  auto& work = work_.at(slot.ticket);
  if (auto* search = std::get_if<PendingSearch>(&work)) {
    search->query.reader = reader_for(search->who, search->cancelled);
    host_.search(*this, slot.ticket, search->query);  // only the History searches
    return;
  }
  PendingRead& read = std::get<PendingRead>(work);
  if (std::optional<Page> page = cache_.read(read.query)) {
    finish_read(slot.ticket, std::move(*page));
    return;
  }
  read.query.reader = reader_for(read.who, read.cancelled);
  host_.read(*this, slot.ticket, read.query);
}

namespace {

// A read skipped because its connection is gone: nothing went wrong.
bool was_cancelled(const std::shared_ptr<std::atomic<bool>>& cancelled) {
  return cancelled && cancelled->load(std::memory_order_relaxed);
}

}  // namespace

void RoomHome::on_page(uint64_t ticket, Result<Page> page) {
  auto it = work_.find(ticket);
  if (it == work_.end()) return;
  MemberRef who = std::get<PendingRead>(it->second).who;
  finish_read(ticket, std::move(page));
  drain_answers(who);
}

void RoomHome::finish_read(uint64_t ticket, Result<Page> page) {
  auto node = work_.extract(ticket);
  const PendingRead read = std::get<PendingRead>(std::move(node.mapped()));
  if (was_cancelled(read.cancelled) && !read.for_join) {
    fill_answer(read.who, ticket, nullptr);  // its connection is gone: nothing to encode
    return;
  }
  if (!page) {
    if (!was_cancelled(read.cancelled)) {
      spdlog::warn("room {}: history could not be read: {}", name_, page.error().message);
    }
  } else {
    // Changes stored while the page was read reached the member already (or
    // wait in the outbox): the page must not be older than them.
    cache_.refresh(page->messages);
  }
  if (read.caller) {
    finish_api_read(*read.caller, read.query, std::move(page));
    return;
  }
  if (read.for_join) {
    // Without its history a join still succeeds: `truncated` sends the client
    // paging, and that page reports the store's trouble.
    if (!page) {
      finish_join(ticket, read, {}, true);
    } else {
      finish_join(ticket, read, std::move(page->messages), page->truncated);
    }
    return;
  }
  if (!page) {
    fill_answer(read.who, ticket,
                error_text(ErrorCode::HistoryUnavailable, "history cannot be read now; retry later",
                           "history", {}, name_));
    return;
  }
  fill_answer(read.who, ticket, make_history(read, *page));
}

SharedText RoomHome::make_history(const PendingRead& read, Page& page) const {
  const bool after = read.query.from == PageQuery::From::After;
  const bool around = read.query.from == PageQuery::From::Around;
  std::vector<Message>& messages = page.messages;
  const uint64_t last = messages.empty() ? 0 : messages.back().id;
  if (fit_to_budget(name_, messages, message_budget(), !after, read.viewer)) {
    page.truncated = true;
    if (around && !messages.empty() && messages.back().id != last) page.newer = true;
  }
  HistoryView view{name_, messages, page.truncated, read.viewer};
  if (around) view.newer = page.newer;
  return history_text(view);
}

void RoomHome::on_searched(uint64_t ticket, Result<SearchPage> page) {
  auto it = work_.find(ticket);
  if (it == work_.end()) return;
  MemberRef who = std::get<PendingSearch>(it->second).who;
  finish_search(ticket, std::move(page));
  drain_answers(who);
}

void RoomHome::finish_search(uint64_t ticket, Result<SearchPage> page) {
  auto node = work_.extract(ticket);
  const PendingSearch search = std::get<PendingSearch>(std::move(node.mapped()));
  if (was_cancelled(search.cancelled)) {
    fill_answer(search.who, ticket, nullptr);
    return;
  }
  if (!page) {
    if (!was_cancelled(search.cancelled)) {
      spdlog::warn("room {}: history could not be searched: {}", name_, page.error().message);
    }
    fill_answer(search.who, ticket,
                error_text(ErrorCode::HistoryUnavailable, "history cannot be read now; retry later",
                           "search", {}, name_));
    return;
  }
  std::vector<Message>& found = page->messages;  // newest first
  std::reverse(found.begin(), found.end());
  cache_.refresh(found);
  // A result deleted since it was read no longer belongs (an edited one is
  // shown as it is now).
  std::erase_if(found, [&](const Message& m) { return m.deleted; });
  std::reverse(found.begin(), found.end());
  if (fit_to_budget(name_, found, message_budget(), false, search.viewer)) {
    page->truncated = true;
    page->next = found.back().id;
  }
  fill_answer(search.who, ticket,
              search_results_text(SearchResultsView{name_, search.query.text, found,
                                                    page->truncated, page->next, search.viewer}));
}

}  // namespace parley::chat
