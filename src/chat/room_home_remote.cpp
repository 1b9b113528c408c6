// RoomHome's steps for rooms shared by several nodes (RoomOptions::multi_node,
// the Redis engine): messages stored by any node reach every member in
// msg_id order, without a hole or a repeat.
//
// Ids are consecutive per room (the History assigns them in one atomic
// step). A message arrives here by one of three roads: this home's own
// append (its answer), another node's event on the bus, or a read of the
// History. Whatever the road, a message is delivered only when every id
// before it has been: until then it is held. A gap that outlives the grace
// time (the missing event is usually a few hundred microseconds behind) is
// filled by reading the History after the last id delivered; so is whatever
// was published while the bus was not listening (catch_up, on every
// (re)subscription). A local message keeps its place in the room's outbox
// while it is held, so what its sender did after it still comes after it,
// and its ack waits with it: a client's highest msg_id, acks included, is
// then always one it may resume `since` without missing anything.
#include <spdlog/spdlog.h>

#include "chat/events.h"
#include "chat/room_home.h"

namespace parley::chat {
namespace {
constexpr MemberRef kNobody{UINT32_MAX, 0, 0};
constexpr auto kRetryAfterError = std::chrono::milliseconds(500);
}  // namespace

void RoomHome::sequence_local(uint64_t ticket, Message message, RoomEvent event, MemberRef sender) {
  uint64_t id = message.id;
  if (id <= cache_.last_id()) {
    // A read of the History delivered it first (its answer was slow).
    acknowledge(ticket, message, sender);
    fill_room_slot(ticket, {}, sender, 0);
    return;
  }
  // The local version wins over a copy read from the History: it has its
  // place in the outbox and knows its sender.
  held_[id] = Held{std::move(message), ticket, std::move(event), sender};
  release_in_order();
}

void RoomHome::acknowledge(uint64_t ticket, const Message& message, MemberRef sender) {
  if (message.client_id.empty()) return;  // plain text: no ack
  fill_ack(sender, ticket, message);
  drain_answers(sender);
}

void RoomHome::on_remote_message(Message message) {
  uint64_t id = message.id;
  if (id <= cache_.last_id() || held_.contains(id)) return;  // delivered, or already held
  held_.emplace(id, Held{std::move(message), 0, {}, kNobody});
  release_in_order();
}

void RoomHome::release_in_order() {
  while (!held_.empty() && held_.begin()->first <= cache_.last_id() + 1) {
    auto node = held_.extract(held_.begin());
    Held& h = node.mapped();
    const uint64_t id = node.key();
    if (id <= cache_.last_id()) {  // delivered meanwhile
      if (h.ticket != 0) {
        acknowledge(h.ticket, h.message, h.sender);
        fill_room_slot(h.ticket, {}, h.sender, 0);
      }
      continue;
    }
    if (h.ticket != 0) {
      // Local: it goes out from its place in the outbox, its ack with it.
      acknowledge(h.ticket, h.message, h.sender);
      cache_.append(std::move(h.message));
      fill_room_slot(h.ticket, std::move(h.event), h.sender, id);
      drain_room();
      continue;
    }
    // Another node's, encoded for the protocols spoken here. Its sender is
    // not here: every active member gets it, except those whose `joined`
    // history already held it.
    Protocol from = h.message.client_id.empty() ? Protocol::PlainText : Protocol::Json;
    RoomEvent event =
        message_event(name_, h.message, from, members_.active_with(Protocol::Json) > 0,
                      members_.active_with(Protocol::PlainText) > 0);
    cache_.append(std::move(h.message));
    host_.broadcast(*this, event, kNobody, members_.holding(id, kNobody));
  }
  if (!held_.empty() && !gap_scheduled_ && !gap_reading_) {
    gap_scheduled_ = true;
    host_.fill_gap_after(*this, options_.gap_grace);
  }
}

void RoomHome::fill_gap() {
  gap_scheduled_ = false;
  if (gap_reading_ || held_.empty() || held_.begin()->first == cache_.last_id() + 1) return;
  start_gap_read();
}

void RoomHome::catch_up() {
  // The roster's changes published meanwhile were missed as well.
  if (options_.shared_presence) request_roster();
  if (gap_reading_) {
    catch_up_again_ = true;  // the read in flight may have started before what was missed
    return;
  }
  start_gap_read();
}

void RoomHome::start_gap_read() {
  gap_reading_ = true;
  catch_up_again_ = false;
  host_.read_gap(*this, PageQuery{PageQuery::From::After, cache_.last_id(), options_.page_max});
}

void RoomHome::on_gap_page(Result<Page> page) {
  gap_reading_ = false;
  if (!page) {
    spdlog::warn("room {}: missed messages could not be read: {}", name_, page.error().message);
    // Held messages wait; the bus' next subscription catches up anyway.
    if (!held_.empty() && !gap_scheduled_) {
      gap_scheduled_ = true;
      host_.fill_gap_after(*this, kRetryAfterError);
    }
    return;
  }
  for (Message& m : page->messages) {
    if (m.id > cache_.last_id() && !held_.contains(m.id)) {
      uint64_t id = m.id;
      held_.emplace(id, Held{std::move(m), 0, {}, kNobody});
    }
  }
  release_in_order();
  if (page->truncated || catch_up_again_) start_gap_read();
}

}  // namespace parley::chat
