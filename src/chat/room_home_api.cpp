// RoomHome: the steps of the backend HTTP API (docs/API.md). See room_home.h.
//
// The API is no member of the room: a post takes the path of a send (a place
// in the room's outbox, History::append, then the event to everyone in the
// room and the cache) and is answered to its caller once stored; a read is a
// `history` page from the cache or the History; a kick takes every
// connection of a user out of the room as their leave would, and tells them.
#include <algorithm>
#include <chrono>

#include "base/wall_clock.h"
#include "chat/api_codec.h"
#include "chat/events.h"
#include "chat/room_home.h"

namespace parley::chat {
namespace {

// No connection: the API's entries are sent to everyone in the room.
constexpr MemberRef kNoMember{UINT32_MAX, 0, 0};

Error post_refused(const Error& error) {
  switch (refusal_of(error)) {
    case Refusal::NotFound:
      return api_error(ApiErrorCode::MessageNotFound, "`reply_to` names no message of this room");
    case Refusal::Deleted:
      return api_error(ApiErrorCode::MessageDeleted, "`reply_to` names a deleted message");
    case Refusal::None:
      return api_error(ApiErrorCode::Unavailable,
                       "the message could not be stored; retry with the same id");
    default:
      return api_error(ApiErrorCode::BadRequest, error.message);
  }
}

}  // namespace

void RoomHome::api_post(ApiCallRef caller, ApiPost post) {
  Message entry{0,
                unix_time_ms(),
                std::move(post.user),
                std::move(post.name),
                std::move(post.client_id),
                std::move(post.text)};
  entry.reply.id = post.reply_to;
  uint64_t ticket = new_ticket();
  outbox_.push_back(RoomSlot{ticket, {}, kNoMember, 0});
  PendingSend send{kNoMember, std::move(entry), Protocol::Json};
  send.caller = caller;
  auto [it, _] = work_.emplace(ticket, std::move(send));
  host_.append(*this, ticket, std::get<PendingSend>(it->second).message);
}

void RoomHome::answer_api_post(ApiCallRef caller, const Message& entry,
                               const Result<Appended>& result) {
  if (!result) {
    host_.api_answer(caller, post_refused(result.error()));
    return;
  }
  host_.api_answer(caller, ApiReply{encode_api_posted(name_, entry.client_id, result->id,
                                                      result->ts_ms, result->duplicate),
                                    !result->duplicate});
}

void RoomHome::api_read(ApiCallRef caller, const PageQuery& query) {
  PendingRead read{kNoMember, false, std::nullopt, query, {}};
  read.caller = caller;
  read.query.limit = std::clamp<std::size_t>(query.limit, 1, options_.page_max);
  if (std::optional<Page> page = cache_.read(read.query)) {
    finish_api_read(caller, read.query, std::move(*page));
    return;
  }
  uint64_t ticket = new_ticket();
  PageQuery q = read.query;
  work_.emplace(ticket, std::move(read));
  host_.read(*this, ticket, q);
}

void RoomHome::finish_api_read(ApiCallRef caller, const PageQuery& query, Result<Page> page) {
  if (!page) {
    host_.api_answer(caller,
                     api_error(ApiErrorCode::Unavailable, "history cannot be read now; retry"));
    return;
  }
  const bool after = query.from == PageQuery::From::After;
  if (fit_to_budget(name_, page->messages, message_budget(), !after)) page->truncated = true;
  host_.api_answer(caller, ApiReply{encode_api_messages(name_, page->messages, page->truncated)});
}

void RoomHome::api_members(ApiCallRef caller, std::string_view after, std::size_t limit) {
  auto page = members_.page(after, limit + 1);
  std::string_view next;
  if (page.size() > limit) {
    page.pop_back();
    next = page.back().name;
  }
  host_.api_answer(caller, ApiReply{encode_api_members(MembersView{
                               name_, page, next, members_.connections(), members_.users()})});
}

void RoomHome::api_kick(ApiCallRef caller, const std::string& user) {
  const std::vector<MemberRef> refs = members_.connections_of_user(user);
  if (refs.empty()) {
    host_.api_answer(caller,
                     api_error(ApiErrorCode::NotInRoom, "the user has no connection in this room"));
    return;
  }
  for (const MemberRef& ref : refs) {
    // As a leave of a connection that stays connected: the others are told,
    // reads it queued are dropped, acks still waiting for the store follow.
    drop_reads(ref);
    remove_member(ref);
    host_.kicked(ref, *this);
  }
  host_.api_answer(caller, ApiReply{encode_api_kicked(name_, user, refs.size())});
}

}  // namespace parley::chat
