// ChatHub: the routes of the backend HTTP API (docs/API.md). See chat_hub.h.
//
// Each call goes from the caller's loop to the room's home as one posted
// task (a named *_at_home step), and its answer comes back the same way
// (api_answer -> api_answer_on_loop). Only a post opens a room; a read of a
// room that is not open goes to the History directly, and is answered from
// the History's thread.
#include <cassert>
#include <memory>

#include "chat/api_codec.h"
#include "chat/chat_hub.h"
#include "chat/events.h"

namespace parley::chat {
namespace {

// The API's answers are bounded like a member's `history` answer.
constexpr std::size_t kApiPageBudget = 240 << 10;

Error room_not_found() {
  return api_error(ApiErrorCode::RoomNotFound,
                   "no such room: nobody has been in it or posted to it");
}

}  // namespace

ApiCallRef ChatHub::attach_caller(uint32_t loop, ApiCaller* caller) {
  assert_on(loop);
  return ApiCallRef{loop, callers_[loop].add(caller)};
}

void ChatHub::detach_caller(ApiCallRef ref) {
  assert_on(ref.loop);
  callers_[ref.loop].remove(ref.id);
}

// --- calls: caller's loop -> home ------------------------------------------------

void ChatHub::api_post(ApiCallRef caller, ApiPost post) {
  assert_on(caller.loop);
  uint32_t loop = home_of(post.room);
  loops_[loop]->post([this, loop, caller, post = std::move(post)]() mutable {
    api_post_at_home(loop, caller, post);
  });
}

void ChatHub::api_history(ApiCallRef caller, std::string room, PageQuery query) {
  assert_on(caller.loop);
  uint32_t loop = home_of(room);
  loops_[loop]->post([this, loop, caller, room = std::move(room), query] {
    api_history_at_home(loop, caller, room, query);
  });
}

void ChatHub::api_members(ApiCallRef caller, std::string room, std::string after,
                          std::size_t limit) {
  assert_on(caller.loop);
  uint32_t loop = home_of(room);
  loops_[loop]->post([this, loop, caller, room = std::move(room), after = std::move(after), limit] {
    api_members_at_home(loop, caller, room, after, limit);
  });
}

void ChatHub::api_kick(ApiCallRef caller, std::string room, std::string user) {
  assert_on(caller.loop);
  uint32_t loop = home_of(room);
  loops_[loop]->post([this, loop, caller, room = std::move(room), user = std::move(user)] {
    api_kick_at_home(loop, caller, room, user);
  });
}

// --- on the room's home loop ------------------------------------------------------

void ChatHub::api_post_at_home(uint32_t loop, ApiCallRef caller, ApiPost& post) {
  assert_on(loop);
  if (shared_) {
    // Several nodes: a room opens once its last id is read (open_shared); the
    // post waits for it as a join does.
    auto waiting = std::make_shared<ApiPost>(std::move(post));
    auto step = [caller, waiting](RoomHome& home) { home.api_post(caller, std::move(*waiting)); };
    if (wait_for_shared_open(loop, waiting->room, step, caller)) return;
    post = std::move(*waiting);
  }
  RoomHome* home = home_on_this_loop(loop, post.room, Open::IfMissing);
  if (home == nullptr) {
    api_answer(caller, api_error(ApiErrorCode::RoomLimit,
                                 "the server has as many rooms open as it allows; retry later"));
    return;
  }
  home->api_post(caller, std::move(post));
  release_if_idle(loop, *home);
}

void ChatHub::api_history_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                                  const PageQuery& query) {
  assert_on(loop);
  if (RoomHome* home = home_on_this_loop(loop, room, Open::Never)) {
    home->api_read(caller, query);
    release_if_idle(loop, *home);
    return;
  }
  if (!has_history(loop, room)) {
    api_answer(caller, room_not_found());
    return;
  }
  // Not open: nothing is in flight for it, so the History alone is right.
  const bool after = query.from == PageQuery::From::After;
  history_.read(room, query, [this, caller, room, after](Result<Page> page) {
    api_page_read(caller, room, after, std::move(page));
  });
}

void ChatHub::api_page_read(ApiCallRef caller, const std::string& room, bool after,
                            Result<Page> page) {
  if (!page) {
    api_answer(caller, api_error(ApiErrorCode::Unavailable, "history cannot be read now; retry"));
    return;
  }
  if (fit_to_budget(room, page->messages, kApiPageBudget, !after)) page->truncated = true;
  api_answer(caller, ApiReply{encode_api_messages(room, page->messages, page->truncated)});
}

void ChatHub::api_members_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                                  const std::string& after, std::size_t limit) {
  assert_on(loop);
  if (RoomHome* home = home_on_this_loop(loop, room, Open::Never)) {
    home->api_members(caller, after, limit);
    return;
  }
  if (!has_history(loop, room)) {
    api_answer(caller, room_not_found());
    return;
  }
  api_answer(caller, ApiReply{encode_api_members(MembersView{room, {}, {}, 0, 0})});
}

void ChatHub::api_kick_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                               const std::string& user) {
  assert_on(loop);
  if (RoomHome* home = home_on_this_loop(loop, room, Open::Never)) {
    home->api_kick(caller, user);
    release_if_idle(loop, *home);
    return;
  }
  if (!has_history(loop, room)) {
    api_answer(caller, room_not_found());
    return;
  }
  api_answer(caller, api_error(ApiErrorCode::NotInRoom, "the user has no connection in this room"));
}

// --- answers: home (or History thread) -> caller's loop ----------------------------

void ChatHub::api_answer(ApiCallRef caller, ApiAnswer answer) {
  loops_[caller.loop]->post(
      [this, caller, answer = std::move(answer)]() mutable { api_answer_on_loop(caller, answer); });
}

void ChatHub::api_answer_on_loop(ApiCallRef caller, ApiAnswer& answer) {
  assert_on(caller.loop);
  // Detached (its connection closed): the answer has nobody to go to.
  if (ApiCaller* c = callers_[caller.loop].find(caller.id)) c->api_answered(std::move(answer));
}

}  // namespace parley::chat
