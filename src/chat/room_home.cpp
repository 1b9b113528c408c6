#include "chat/room_home.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "chat/events.h"

namespace parley::chat {
namespace {

// Room in an answer for everything but its messages (members, counts, keys).
constexpr std::size_t kAnswerEnvelope = 16 << 10;

}  // namespace

RoomHome::RoomHome(std::string name, uint32_t loop, uint64_t last_id, const RoomOptions& options,
                   CacheBudget& budget, RoomHost& host, std::size_t loops)
    : name_(std::move(name)),
      loop_(loop),
      options_(options),
      host_(host),
      members_(loops, options.shared_presence),
      cache_(last_id, options.cache, budget) {
  if (options_.shared_presence) request_roster();
}

bool RoomHome::idle() const {
  return members_.empty() && work_.empty() && outbox_.empty() && answers_.empty() &&
         parked_joins_.empty() && !batch_.scheduled && presence_in_flight_ == 0 &&
         claims_.empty() && claimed_.empty();
}

// --- join -------------------------------------------------------------------

void RoomHome::join(MemberRef who, const JoinRequest& request) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) {
    m = &members_.add(who, request.user, request.name, request.protocol);
    if (members_.cluster()) {  // named by the shared roster first
      claim(who, request);
      // The seed's protocol has no answer to wait for: a plain-text client
      // gets the room's events from now on, as on one node.
      if (request.protocol == Protocol::PlainText) activate_plain(*m);
      return;
    }
    host_.counts_changed(*this);
  } else if (!m->active) {
    // Its first join is still being read; a leave in between is undone, and
    // this join gets its own answer after that one.
    m->leave_requested = false;
    if (members_.cluster() && claiming(who, request)) return;
  }
  continue_join(who, request);
}

void RoomHome::continue_join(MemberRef who, const JoinRequest& request) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  if (request.protocol == Protocol::PlainText) {
    if (!m->active) activate_plain(*m);  // the seed's protocol has no history, no answer
    return;
  }
  start_join_read(who, request);
}

void RoomHome::activate_plain(RoomMember& m) {
  if (m.leave_requested) {  // left while its claim was on its way (shared presence)
    complete_leave(m.ref);
    return;
  }
  members_.activate(m, cache_.last_id());
  host_.activate(m.ref, *this, nullptr);
  announce_join(m);
}

void RoomHome::start_join_read(MemberRef who, const JoinRequest& request) {
  // The query is built first and moved in whole: assigning it into a
  // PendingRead made with an empty one trips GCC 12's -Wmaybe-uninitialized
  // at -O2 (the release build) on its ReadFor's shared_ptr.
  PageQuery query = request.since
                        ? PageQuery{PageQuery::From::After, *request.since, options_.page_max}
                        : PageQuery{PageQuery::From::Newest, 0, options_.join_history};
  PendingRead read{who, true, request.since, std::move(query), request.user};
  uint64_t ticket = new_ticket();
  work_.emplace(ticket, std::move(read));
  queue_answer(who, AnswerSlot{AnswerSlot::State::ReadQueued, ticket, nullptr,
                               AnswerSlot::Counted::None, false});
  drain_answers(who);
}

void RoomHome::finish_join(uint64_t ticket, const PendingRead& read, std::vector<Message> history,
                           bool truncated) {
  RoomMember* m = members_.find(read.who);
  if (m == nullptr) {
    fill_answer(read.who, ticket, nullptr);
    return;
  }
  // "Requests are processed in the order received": the member's own
  // messages sent behind this join are answered after it, by their acks, so
  // they are not in its history, even when the store's writer stored them
  // before its reader read this page (the two run side by side), or they
  // reached the cache first. Until they are stored their ids are unknown (a
  // resend of an older message keeps that one's id): the answer waits for
  // them, which costs nothing, as their acks wait behind it anyway.
  if (own_store_in_flight_after(read.who, ticket)) {
    parked_joins_.insert_or_assign(read.who,
                                   ParkedJoin{ticket, read, std::move(history), truncated});
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
  drop_own_later_messages(read.who, ticket, history);
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

bool RoomHome::own_store_in_flight_after(MemberRef who, uint64_t join_ticket) const {
  auto it = answers_.find(who);
  if (it == answers_.end()) return false;
  bool after = false;
  for (const AnswerSlot& slot : it->second) {
    if (after && slot.state == AnswerSlot::State::Appending) return true;
    after = after || slot.ticket == join_ticket;
  }
  return false;
}

void RoomHome::resume_parked_join(MemberRef who) {
  auto it = parked_joins_.find(who);
  if (it == parked_joins_.end() || own_store_in_flight_after(who, it->second.ticket)) return;
  ParkedJoin parked = std::move(it->second);
  parked_joins_.erase(it);
  finish_join(parked.ticket, parked.read, std::move(parked.history), parked.truncated);
}

void RoomHome::drop_own_later_messages(MemberRef who, uint64_t join_ticket,
                                       std::vector<Message>& history) const {
  auto it = answers_.find(who);
  if (it == answers_.end() || history.empty()) return;
  std::vector<uint64_t> own;
  bool after = false;
  for (const AnswerSlot& slot : it->second) {
    if (after && slot.stored_id != 0) own.push_back(slot.stored_id);
    after = after || slot.ticket == join_ticket;
  }
  if (own.empty()) return;
  std::erase_if(history,
                [&](const Message& msg) { return std::ranges::find(own, msg.id) != own.end(); });
}

void RoomHome::announce_join(const RoomMember& m) {
  if (members_.cluster()) return;  // announced when its claim was applied
  const std::string& user = m.user();
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
  if (fit_to_budget(name_, history, message_budget(), keep_newest, m.user())) truncated = true;
  auto members = members_.page({}, options_.joined_members);
  return joined_text(JoinedView{name_, members_.name_of(m.user()), members, history, truncated,
                                cache_.last_id(), members_.connections(), members_.users(),
                                m.user()});
}

std::size_t RoomHome::message_budget() const {
  return options_.answer_bytes > 2 * kAnswerEnvelope ? options_.answer_bytes - kAnswerEnvelope
                                                     : options_.answer_bytes / 2;
}

// --- leave ------------------------------------------------------------------

void RoomHome::leave(MemberRef who, bool disconnected) {
  // Work for a connection that is gone is cancelled: reads it asked for and
  // that have not started are dropped, those in the History's queue are
  // cancelled (the store skips them; one already running finishes, and the
  // hub drops its answer). A client that leaves but stays connected still
  // gets every answer, in the order it asked.
  if (disconnected) drop_reads(who);
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  if (!m->active) {  // its join is still being read: leave once it is answered
    m->leave_requested = true;
    return;
  }
  complete_leave(who);
}

void RoomHome::complete_leave(MemberRef who) {
  Protocol protocol = Protocol::Json;
  if (!remove_member(who, &protocol)) return;
  // `left` after every answer still waiting for the store (acks).
  if (protocol == Protocol::Json) {
    queue_answer(who, AnswerSlot{AnswerSlot::State::Ready, 0, left_text(name_),
                                 AnswerSlot::Counted::None, false});
    drain_answers(who);
  }
}

bool RoomHome::remove_member(MemberRef who, Protocol* protocol) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return false;
  const std::string user = m->user();
  const std::string name = members_.name_of(user);
  const bool was_active = m->active;
  if (protocol != nullptr) *protocol = m->protocol;
  members_.remove(who);
  if (members_.cluster()) {  // told when the roster's change comes back
    send_presence(PresenceOp{
        PresenceOp::Kind::SetCount, user, name, members_.local_connections_of(user), {}});
    return true;
  }
  host_.counts_changed(*this);
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
  return true;
}

// --- typing, rename -----------------------------------------------------

void RoomHome::typing(MemberRef who) {
  RoomMember* m = members_.find(who);
  if (m == nullptr || !m->active) return;
  emit(typing_event(name_, m->user(), members_.name_of(m->user())), who);
}

void RoomHome::rename(MemberRef who, std::string_view name) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;
  if (members_.cluster()) {  // everyone hears of it once the roster changed
    send_presence(PresenceOp{PresenceOp::Kind::Rename, m->user(), std::string(name), 0, {}});
    return;
  }
  std::optional<std::string> old = members_.rename(m->user(), name);
  if (!old || !m->active) return;
  // After the joins and leaves before it; everyone hears of it, the renaming
  // connection included (its confirmation).
  flush_presence();
  emit(presence_event(name_,
                      PresenceChange{PresenceKind::Renamed, m->user(), members_.name_of(m->user()),
                                     *old, members_.connections(), members_.users(), true}),
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
  queue_answer(who, AnswerSlot{AnswerSlot::State::Ready, 0, std::move(text),
                               AnswerSlot::Counted::None, false});
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

RoomHome::AnswerSlot* RoomHome::fill_answer(MemberRef who, uint64_t ticket, SharedText text,
                                            bool activates) {
  auto it = answers_.find(who);
  if (it == answers_.end()) return nullptr;
  for (AnswerSlot& slot : it->second) {
    if (slot.ticket != ticket || slot.state == AnswerSlot::State::Ready) continue;
    slot.state = AnswerSlot::State::Ready;
    slot.text = std::move(text);
    slot.activates = activates;
    return &slot;
  }
  return nullptr;
}

void RoomHome::fill_ack(MemberRef who, uint64_t ticket, const Message& entry) {
  AnswerSlot* slot =
      fill_answer(who, ticket, ack_text(name_, entry.client_id, entry.id, entry.ts_ms, false));
  if (slot != nullptr && entry.is_message()) slot->stored_id = entry.id;
}

void RoomHome::drain_answers(MemberRef who) {
  resume_parked_join(who);
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
    counted_done(who, done.counted);
  }
  if (it != answers_.end()) answers_.erase(it);
}

void RoomHome::counted_done(MemberRef who, AnswerSlot::Counted counted) {
  if (counted == AnswerSlot::Counted::History) host_.history_done(who);
  if (counted == AnswerSlot::Counted::Search) host_.search_done(who);
}

void RoomHome::drop_reads(MemberRef who) {
  auto it = answers_.find(who);
  if (it == answers_.end()) return;
  auto& queue = it->second;
  for (auto slot = queue.begin(); slot != queue.end();) {
    bool queued = slot->state == AnswerSlot::State::ReadQueued;
    if (!queued) {
      if (slot->state == AnswerSlot::State::Reading) {
        auto work = work_.find(slot->ticket);
        if (work != work_.end()) {
          std::visit(
              [](auto& w) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(w)>, PendingSend>) {
                  if (w.cancelled) w.cancelled->store(true, std::memory_order_release);
                }
              },
              work->second);
        }
      }
      ++slot;
      continue;
    }
    counted_done(who, slot->counted);
    work_.erase(slot->ticket);
    slot = queue.erase(slot);
  }
}

}  // namespace parley::chat
