// RoomHome: the steps that add an entry to the room's log — a message (send)
// or a change of an earlier one (edit, delete_message, react) — and the
// store's answer to them (on_appended). See room_home.h.
#include <chrono>

#include <spdlog/spdlog.h>

#include "base/wall_clock.h"
#include "chat/events.h"
#include "chat/room_home.h"

namespace parley::chat {
namespace {

// The request type an entry answers, for `ref` in errors.
std::string_view request_type(EntryKind kind) {
  switch (kind) {
    case EntryKind::Message:
      return "send";
    case EntryKind::Edit:
      return "edit";
    case EntryKind::Delete:
      return "delete";
    case EntryKind::React:
      return "react";
    case EntryKind::Unreact:
      return "unreact";
  }
  return "send";
}

ErrorCode error_code_of(Refusal refusal) {
  switch (refusal) {
    case Refusal::NotFound:
      return ErrorCode::NotFound;
    case Refusal::NotAuthor:
      return ErrorCode::NotAuthor;
    case Refusal::Deleted:
      return ErrorCode::Deleted;
    case Refusal::LimitReached:
      return ErrorCode::LimitReached;
    case Refusal::None:
      break;
  }
  return ErrorCode::Internal;
}

// Every connection in the room, the author's included (changes).
constexpr MemberRef kNobody{UINT32_MAX, 0, 0};

}  // namespace

// A new entry of `m`'s, stamped now; its id is the History's to assign.
Message RoomHome::authored_by(const RoomMember& m, std::string client_id, std::string text) const {
  return Message{0,
                 unix_time_ms(),
                 m.user(),
                 members_.name_of(m.user()),
                 std::move(client_id),
                 std::move(text)};
}

void RoomHome::send(MemberRef who, SendRequest request) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;  // the session checks membership first; this is a race with leave
  Message entry = authored_by(*m, std::move(request.client_id), std::move(request.text));
  entry.reply.id = request.reply_to;  // the History checks it and fills the quote
  entry.attachment = std::move(request.attachment);
  store_entry(who, std::move(entry), m->protocol);
}

void RoomHome::edit(MemberRef who, ChangeRequest request) {
  change(who, std::move(request), EntryKind::Edit);
}

void RoomHome::delete_message(MemberRef who, ChangeRequest request) {
  request.text.clear();
  change(who, std::move(request), EntryKind::Delete);
}

void RoomHome::react(MemberRef who, ChangeRequest request, bool add) {
  change(who, std::move(request), add ? EntryKind::React : EntryKind::Unreact);
}

void RoomHome::change(MemberRef who, ChangeRequest request, EntryKind kind) {
  RoomMember* m = members_.find(who);
  if (m == nullptr) return;  // a race with leave, as for send
  Message entry = authored_by(*m, std::move(request.client_id), std::move(request.text));
  entry.kind = kind;
  entry.target = request.target;
  // The rules (author, deleted, limits) are the History's to check, in the
  // step that stores the change: a check here could race with another node.
  store_entry(who, std::move(entry), m->protocol);
}

void RoomHome::store_entry(MemberRef who, Message entry, Protocol protocol) {
  uint64_t ticket = new_ticket();
  // Its place among the room's events, and among the author's answers.
  outbox_.push_back(RoomSlot{ticket, {}, who, 0});
  if (!entry.client_id.empty()) {
    queue_answer(who, AnswerSlot{AnswerSlot::State::Appending, ticket, nullptr,
                                 AnswerSlot::Counted::None, false});
  }
  auto [it, _] = work_.emplace(ticket, PendingSend{who, std::move(entry), protocol});
  host_.append(*this, ticket, std::get<PendingSend>(it->second).message);
}

void RoomHome::on_appended(uint64_t ticket, Result<Appended> result) {
  auto node = work_.extract(ticket);
  if (node.empty()) return;
  finish_store(ticket, std::get<PendingSend>(std::move(node.mapped())), std::move(result));
}

void RoomHome::finish_store(uint64_t ticket, PendingSend send, Result<Appended> result) {
  const MemberRef who = send.who;
  const bool acked = !send.message.client_id.empty() && !send.caller;
  if (send.caller) answer_api_post(*send.caller, send.message, result);
  if (!result) {
    refused(ticket, send, result.error());
  } else if (result->duplicate) {
    fill_room_slot(ticket, {}, who, 0);
    if (acked) {
      fill_answer(who, ticket,
                  ack_text(name_, send.message.client_id, result->id, result->ts_ms, true));
    }
  } else {
    stored(ticket, std::move(send), *result);
  }
  drain_room();
  if (acked) drain_answers(who);
}

void RoomHome::refused(uint64_t ticket, const PendingSend& send, const Error& error) {
  const Message& entry = send.message;
  fill_room_slot(ticket, {}, send.who, 0);
  const Refusal refusal = refusal_of(error);
  // The shared engine (Redis) is down: `unavailable`, which the client may
  // retry without it counting as abuse (docs/PROTOCOL.md, "Several nodes").
  // A single node's store failure stays `internal`.
  const bool unavailable =
      options_.multi_node && refusal == Refusal::None && error.code == Errc::Unavailable;
  // Too many bytes waiting for the store (its budgets, docs/SECURITY.md):
  // refused like a rate, and the client sends again later.
  const bool busy = refusal == Refusal::None && error.code == Errc::Overloaded;
  if (entry.client_id.empty()) {
    // The seed's protocol has no errors: a notice in its style, not silence.
    if (unavailable || busy) {
      queue_answer(send.who, AnswerSlot{AnswerSlot::State::Ready, 0,
                                        busy ? store_busy_notice() : unavailable_notice(),
                                        AnswerSlot::Counted::None, false});
      drain_answers(send.who);
    }
    return;
  }
  if (busy) {
    fill_answer(
        send.who, ticket,
        error_text(ErrorCode::RateLimited, "too many messages waiting to be stored; retry later",
                   request_type(entry.kind), entry.client_id, name_));
    return;
  }
  ErrorCode code = error_code_of(refusal);
  std::string_view message = error.message;
  if (refusal == Refusal::None) {
    // Not stored, so not acknowledged: the client keeps it pending and may
    // retry (docs/PROTOCOL.md, `unavailable` and `internal`), or, for what
    // this engine does not keep (Errc::Invalid, docs/SCALING.md), give up.
    spdlog::warn("room {}: an entry could not be stored: {}", name_, error.message);
    if (unavailable) {
      code = ErrorCode::Unavailable;
    } else if (error.code == Errc::Invalid) {
      code = ErrorCode::Unsupported;
    } else {
      message = "could not be stored";
    }
  }
  fill_answer(send.who, ticket,
              error_text(code, message, request_type(entry.kind), entry.client_id, name_));
}

void RoomHome::stored(uint64_t ticket, PendingSend send, const Appended& result) {
  Message& entry = send.message;
  entry.id = result.id;
  entry.ts_ms = result.ts_ms;
  const bool json = members_.active_with(Protocol::Json) > 0;
  const bool plain = members_.active_with(Protocol::PlainText) > 0;
  RoomEvent event;
  MemberRef except = send.who;
  if (entry.is_message()) {
    if (entry.reply.id != 0) entry.reply = result.reply;
    event = message_event(name_, entry, send.protocol, json, plain);
  } else {
    entry.count = result.count;
    event = change_event(name_, entry, json, plain);
    except = kNobody;  // its author's connections see the change too
  }
  const uint64_t id = entry.id;
  // Uploads: the file store counts which entries show a file.
  if (entry.is_message() && !entry.attachment.empty()) {
    host_.file_referenced(*this, entry);
  } else if (entry.kind == EntryKind::Delete) {
    host_.file_released(*this, entry.target);
  }
  host_.publish(*this, entry);
  if (options_.multi_node) {
    // Several nodes: the entry (and its ack) waits until every entry before
    // it was delivered here (room_home_remote.cpp).
    sequence_local(ticket, std::move(entry), std::move(event), send.who);
    return;
  }
  if (!entry.client_id.empty()) {
    fill_ack(send.who, ticket, entry);
  }
  cache_.append(std::move(entry));
  fill_room_slot(ticket, std::move(event), except, id);
}

}  // namespace parley::chat
