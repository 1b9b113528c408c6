#include "chat/room_home.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "chat/events.h"

namespace parley::chat {
namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Room in an answer for everything but its messages (members, counts, keys).
constexpr std::size_t kAnswerEnvelope = 16 << 10;

}  // namespace

RoomHome::RoomHome(std::string name, uint32_t loop, uint64_t last_id, const RoomOptions& options,
                   CacheBudget& budget, RoomHost& host, std::size_t loops)
    : name_(std::move(name)),
      loop_(loop),
      options_(options),
      host_(host),
      members_(loops),
      cache_(last_id, options.cache, budget) {}

bool RoomHome::idle() const {
  return members_.empty() && work_.empty() && outbox_.empty() && answers_.empty() &&
         !batch_.scheduled;
}

// --- join -------------------------------------------------------------------

void RoomHome::join(MemberRef who, const JoinRequest& request) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) {
    m = &members_.add(who, request.user, request.name, request.protocol);
  } else if (!m->active) {
    // Its first join is still being read; a leave in between is undone, and
    // this join gets its own answer after that one.
    m->leave_requested = false;
  }
  if (request.protocol == Protocol::PlainText) {
    if (!m->active) activate_plain(*m);  // the seed's protocol has no history, no answer
    return;
  }
  start_join_read(who, request);
}

void RoomHome::activate_plain(RoomMember& m) {
  members_.activate(m, cache_.last_id());
  host_.activate(m.ref, *this, nullptr);
  announce_join(m);
}

void RoomHome::start_join_read(MemberRef who, const JoinRequest& request) {
  PendingRead read{who, true, request.since, {}};
  if (request.since) {
    read.query = PageQuery{PageQuery::From::After, *request.since, options_.page_max};
  } else {
    read.query = PageQuery{PageQuery::From::Newest, 0, options_.join_history};
  }
  uint64_t ticket = new_ticket();
  work_.emplace(ticket, std::move(read));
  queue_answer(who, AnswerSlot{AnswerSlot::State::ReadQueued, ticket, nullptr, false, false});
  drain_answers(who);
}

void RoomHome::finish_join(uint64_t ticket, const PendingRead& read, std::vector<Message> history,
                           bool truncated) {
  RoomMember* m = members_.find(read.who);
  if (m == nullptr) {
    fill_answer(read.who, ticket, nullptr);
    return;
  }
  if (!read.since) {
    cache_.warm(history);
  }
  // Messages stored since the read started come from the cache, unless the
  // page was cut (the client pages on from its end).
  if (!(read.since && truncated)) {
    uint64_t upto = history.empty() ? read.since.value_or(0) : history.back().id;
    for (auto& msg : cache_.newer_than(upto)) history.push_back(std::move(msg));
  }
  bool keep_newest = !read.since;
  SharedText joined = make_joined(*m, history, truncated, keep_newest);
  if (m->active) {  // a repeated join: only the answer
    fill_answer(read.who, ticket, std::move(joined));
    return;
  }
  if (m->leave_requested) {
    // Left while its join was read: still answered (the client asked), then
    // gone again without anyone having been told it came.
    fill_answer(read.who, ticket, std::move(joined));
    complete_leave(read.who);
    return;
  }
  // Messages up to `seen` are in its history (or, when the history was cut,
  // will be paged for): the fan-out of any still in the outbox skips it.
  uint64_t seen = cache_.last_id();
  if (!history.empty()) seen = truncated ? history.back().id : std::max(seen, history.back().id);
  if (truncated && history.empty()) seen = read.since.value_or(seen);
  members_.activate(*m, seen);
  fill_answer(read.who, ticket, std::move(joined), /*activates=*/true);
  announce_join(*m);
}

void RoomHome::announce_join(const RoomMember& m) {
  const std::string& user = m.user;
  announce(PresenceChange{PresenceKind::Joined,
                          user,
                          members_.name_of(user),
                          {},
                          members_.connections(),
                          members_.users(),
                          members_.connections_of(user) == 1},
           m.ref);
}

SharedText RoomHome::make_joined(const RoomMember& m, std::vector<Message>& history,
                                 bool& truncated, bool keep_newest) const {
  if (fit_to_budget(name_, history, message_budget(), keep_newest)) truncated = true;
  auto members = members_.page({}, options_.joined_members);
  return joined_text(JoinedView{name_, members_.name_of(m.user), members, history, truncated,
                                cache_.last_id(), members_.connections(), members_.users()});
}

std::size_t RoomHome::message_budget() const {
  return options_.answer_bytes > 2 * kAnswerEnvelope ? options_.answer_bytes - kAnswerEnvelope
                                                     : options_.answer_bytes / 2;
}

// --- leave ------------------------------------------------------------------

void RoomHome::leave(MemberRef who, bool disconnected) {
  // Work for a connection that is gone is cancelled: reads it asked for and
  // that have not started are dropped (a read in flight finishes, and the
  // hub drops its answer). A client that leaves but stays connected still
  // gets every answer, in the order it asked.
  if (disconnected) drop_queued_reads(who);
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  if (!m->active) {  // its join is still being read: leave once it is answered
    m->leave_requested = true;
    return;
  }
  complete_leave(who);
}

void RoomHome::complete_leave(MemberRef who) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  const std::string user = m->user;
  const std::string name = members_.name_of(user);
  const bool was_active = m->active;
  const Protocol protocol = m->protocol;
  members_.remove(who);
  if (was_active) {
    bool user_left = members_.connections_of(user) == 0;
    announce(PresenceChange{PresenceKind::Left,
                            user,
                            name,
                            {},
                            members_.connections(),
                            members_.users(),
                            user_left},
             who);
  }
  // `left` after every answer still waiting for the store (acks).
  if (protocol == Protocol::Json) {
    queue_answer(who, AnswerSlot{AnswerSlot::State::Ready, 0, left_text(name_), false, false});
    drain_answers(who);
  }
}

// --- send, typing, rename -----------------------------------------------------

void RoomHome::send(MemberRef who, SendRequest request) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;  // the session checks membership first; this is a race with leave
  Message message{0,
                  now_ms(),
                  m->user,
                  members_.name_of(m->user),
                  std::move(request.client_id),
                  std::move(request.text)};
  uint64_t ticket = new_ticket();
  // Its place among the room's events, and among the sender's answers.
  outbox_.push_back(RoomSlot{ticket, {}, who, 0});
  if (!message.client_id.empty()) {
    queue_answer(who, AnswerSlot{AnswerSlot::State::Appending, ticket, nullptr, false, false});
  }
  auto [it, _] = work_.emplace(ticket, PendingSend{who, std::move(message), m->protocol});
  host_.append(*this, ticket, std::get<PendingSend>(it->second).message);
}

void RoomHome::on_appended(uint64_t ticket, Result<Appended> result) {
  auto node = work_.extract(ticket);
  if (node.empty()) return;
  finish_send(ticket, std::get<PendingSend>(std::move(node.mapped())), std::move(result));
}

void RoomHome::finish_send(uint64_t ticket, PendingSend send, Result<Appended> result) {
  const MemberRef who = send.who;
  Message& msg = send.message;
  const bool acked = !msg.client_id.empty();
  if (!result) {
    // Not stored, so not acknowledged: the client keeps it pending and may
    // retry (docs/PROTOCOL.md, `internal`).
    spdlog::warn("room {}: a message could not be stored: {}", name_, result.error().message);
    fill_room_slot(ticket, {}, who, 0);
    const bool unavailable = result.error().code == Errc::Unavailable;
    if (acked) {
      fill_answer(who, ticket,
                  error_text(unavailable ? ErrorCode::Unavailable : ErrorCode::Internal,
                             "the message could not be stored", "send", msg.client_id, name_));
    } else if (unavailable) {
      // The seed's protocol has no errors: a notice in its style, not silence.
      queue_answer(who,
                   AnswerSlot{AnswerSlot::State::Ready, 0, unavailable_notice(), false, false});
      drain_answers(who);
    }
  } else if (result->duplicate) {
    fill_room_slot(ticket, {}, who, 0);
    if (acked)
      fill_answer(who, ticket, ack_text(name_, msg.client_id, result->id, result->ts_ms, true));
  } else {
    msg.id = result->id;
    msg.ts_ms = result->ts_ms;
    RoomEvent event =
        message_event(name_, msg, send.protocol, members_.active_with(Protocol::Json) > 0,
                      members_.active_with(Protocol::PlainText) > 0);
    // Several nodes: the ack waits until every message before this one was
    // delivered here, so a client's highest id is always a safe `since`.
    if (acked && !options_.multi_node) {
      fill_answer(who, ticket, ack_text(name_, msg.client_id, msg.id, msg.ts_ms, false));
    }
    uint64_t id = msg.id;
    host_.publish(*this, msg);
    if (options_.multi_node) {
      sequence_local(ticket, std::move(msg), std::move(event), who);
    } else {
      cache_.append(std::move(msg));
      fill_room_slot(ticket, std::move(event), who, id);
    }
  }
  drain_room();
  if (acked) drain_answers(who);
}

void RoomHome::typing(MemberRef who) {
  RoomMember* m = members_.find(who);
  if (m == nullptr || !m->active) return;
  emit(typing_event(name_, m->user, members_.name_of(m->user)), who);
}

void RoomHome::rename(MemberRef who, std::string_view name) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  std::optional<std::string> old = members_.rename(m->user, name);
  if (!old || !m->active) return;
  // After the joins and leaves before it; everyone hears of it, the renaming
  // connection included (its confirmation).
  flush_presence();
  emit(presence_event(
           name_, PresenceChange{PresenceKind::Renamed, m->user, members_.name_of(m->user), *old,
                                 members_.connections(), members_.users(), true}),
       MemberRef{UINT32_MAX, 0, 0});
}

void RoomHome::members(MemberRef who, std::string_view after, std::size_t limit) {
  if (members_.find(who) == nullptr) return;  // the session checks membership; a race with leave
  auto page = members_.page(after, limit + 1);
  std::string_view next;
  if (page.size() > limit) {
    page.pop_back();
    next = page.back().name;
  }
  SharedText text = make_shared_text(
      encode_members(MembersView{name_, page, next, members_.connections(), members_.users()}));
  queue_answer(who, AnswerSlot{AnswerSlot::State::Ready, 0, std::move(text), false, false});
  drain_answers(who);
}

// --- presence -------------------------------------------------------------------

bool RoomHome::batching_presence() const {
  // Once started, a batch takes everything until it is flushed, so the order
  // of joins and leaves is kept even if the room shrinks meanwhile.
  return batch_.scheduled || (options_.presence_batch_above > 0 &&
                              members_.connections() >= options_.presence_batch_above);
}

void RoomHome::announce(const PresenceChange& change, MemberRef except) {
  if (!batching_presence()) {
    emit(presence_event(name_, change), except);
    return;
  }
  // A large room: one event per interval instead of one per join, which
  // would cost (members x joins) deliveries in a join storm.
  bool joined = change.kind == PresenceKind::Joined;
  (joined ? batch_.any_join : batch_.any_leave) = true;
  if (change.user_changed) {
    auto& names = joined ? batch_.joined : batch_.left;
    if (names.size() < options_.presence_batch_names) {
      names.emplace_back(change.user, change.name);
    } else {
      ++(joined ? batch_.more_joined : batch_.more_left);
    }
  }
  if (!batch_.scheduled) {
    batch_.scheduled = true;
    host_.flush_presence_after(*this, options_.presence_interval);
  }
}

void RoomHome::flush_presence() {
  if (!batch_.scheduled) return;
  PresenceBatch batch = std::move(batch_);
  batch_ = PresenceBatch{};
  auto views = [](const auto& names) {
    std::vector<MemberView> out;
    for (const auto& [user, name] : names) out.push_back({user, name});
    return out;
  };
  std::vector<MemberView> joined = views(batch.joined), left = views(batch.left);
  RoomEvent event =
      presence_notices(name_, batch.any_join, batch.any_leave, members_.connections());
  if (!joined.empty() || !left.empty() || batch.more_joined > 0 || batch.more_left > 0) {
    event.json = make_shared_text(encode_presence_batch(
        PresenceBatchView{name_, joined, left, batch.more_joined, batch.more_left,
                          members_.connections(), members_.users()}));
  }
  if (event.json || event.plain) emit(std::move(event), MemberRef{UINT32_MAX, 0, 0});
  if (batch.any_join && batch.any_leave) {
    emit(presence_notices(name_, false, true, members_.connections()), MemberRef{UINT32_MAX, 0, 0});
  }
}

// --- history ------------------------------------------------------------------

void RoomHome::history(MemberRef who, const PageQuery& query) {
  if (members_.find(who) == nullptr) {
    host_.history_done(who);  // left meanwhile: nothing to answer
    return;
  }
  PendingRead read{who, false, std::nullopt, query};
  read.query.limit = std::clamp<std::size_t>(query.limit, 1, options_.page_max);
  uint64_t ticket = new_ticket();
  work_.emplace(ticket, std::move(read));
  queue_answer(who, AnswerSlot{AnswerSlot::State::ReadQueued, ticket, nullptr, true, false});
  drain_answers(who);
}

void RoomHome::start_read(AnswerSlot& slot) {
  slot.state = AnswerSlot::State::Reading;
  const PendingRead& read = std::get<PendingRead>(work_.at(slot.ticket));
  if (std::optional<Page> page = cache_.read(read.query)) {
    finish_read(slot.ticket, std::move(*page));
    return;
  }
  host_.read(*this, slot.ticket, read.query);
}

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
  if (!page) {
    spdlog::warn("room {}: history could not be read: {}", name_, page.error().message);
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
  fill_answer(
      read.who, ticket,
      make_history(page->messages, page->truncated, read.query.from != PageQuery::From::After));
}

SharedText RoomHome::make_history(std::vector<Message>& messages, bool truncated,
                                  bool keep_newest) const {
  if (fit_to_budget(name_, messages, message_budget(), keep_newest)) truncated = true;
  return history_text(name_, messages, truncated);
}

// --- the room's outbox --------------------------------------------------------

void RoomHome::emit(RoomEvent event, MemberRef except) {
  if (outbox_.empty()) {
    host_.broadcast(*this, event, except, {});
    return;
  }
  outbox_.push_back(RoomSlot{0, std::move(event), except, 0});
}

void RoomHome::fill_room_slot(uint64_t ticket, RoomEvent event, MemberRef except, uint64_t msg_id) {
  // Stores answer in order, so the slot is nearly always at the front.
  for (RoomSlot& slot : outbox_) {
    if (slot.ticket != ticket) continue;
    slot = RoomSlot{0, std::move(event), except, msg_id};
    return;
  }
}

void RoomHome::drain_room() {
  if (draining_room_) return;
  draining_room_ = true;
  while (!outbox_.empty() && outbox_.front().ticket == 0) {
    RoomSlot slot = std::move(outbox_.front());
    outbox_.pop_front();
    if (!slot.event.json && !slot.event.plain) continue;
    // Members whose `joined` history already holds the message are skipped
    // (a join answered from the store can overtake the message's fan-out).
    host_.broadcast(*this, slot.event, slot.except, members_.holding(slot.msg_id, slot.except));
  }
  draining_room_ = false;
}

// --- each member's answers ----------------------------------------------------

void RoomHome::queue_answer(MemberRef who, AnswerSlot slot) {
  answers_[who].push_back(std::move(slot));
}

void RoomHome::fill_answer(MemberRef who, uint64_t ticket, SharedText text, bool activates) {
  auto it = answers_.find(who);
  if (it == answers_.end()) return;
  for (AnswerSlot& slot : it->second) {
    if (slot.ticket != ticket || slot.state == AnswerSlot::State::Ready) continue;
    slot.state = AnswerSlot::State::Ready;
    slot.text = std::move(text);
    slot.activates = activates;
    return;
  }
}

void RoomHome::drain_answers(MemberRef who) {
  auto it = answers_.find(who);
  while (it != answers_.end() && !it->second.empty()) {
    AnswerSlot& head = it->second.front();
    if (head.state == AnswerSlot::State::ReadQueued) {
      start_read(head);  // may answer at once from the cache
      it = answers_.find(who);
      continue;
    }
    if (head.state != AnswerSlot::State::Ready) return;  // waiting for the store
    AnswerSlot done = std::move(head);
    it->second.pop_front();
    if (done.activates) {
      host_.activate(who, *this, std::move(done.text));
    } else if (done.text) {
      host_.answer(who, std::move(done.text));
    }
    if (done.is_history) host_.history_done(who);
  }
  if (it != answers_.end()) answers_.erase(it);
}

void RoomHome::drop_queued_reads(MemberRef who) {
  auto it = answers_.find(who);
  if (it == answers_.end()) return;
  auto& queue = it->second;
  for (auto slot = queue.begin(); slot != queue.end();) {
    bool queued = slot->state == AnswerSlot::State::ReadQueued;
    if (!queued) {
      ++slot;
      continue;
    }
    if (slot->is_history) host_.history_done(who);
    work_.erase(slot->ticket);
    slot = queue.erase(slot);
  }
}

}  // namespace parley::chat
