#include "chat/plain_text_session.h"

#include "auth/jwt_verifier.h"
#include "chat/events.h"
#include "ws/close_code.h"

namespace parley::chat {
namespace {

// One notice text for the whole process (OutgoingText is thread-safe), not
// one allocation per connection.
const SharedText& too_long_notice() {
  static const SharedText notice = make_shared_text(std::string(PlainTextSession::kTooLongNotice));
  return notice;
}

}  // namespace

PlainTextSession::PlainTextSession(ChatHub& hub, uint32_t loop, ChatTransport& transport,
                                   std::string room, uint64_t guest_number,
                                   std::string_view run_tag, const JsonSessionOptions& limits,
                                   std::optional<auth::Claims> claims)
    : ChatSession(hub, loop, transport),
      room_(std::move(room)),
      user_("guest-" + std::to_string(guest_number) + "." + std::string(run_tag)),
      name_("guest-" + std::to_string(guest_number)),
      limits_(limits),
      rate_(limits.rate_per_sec, limits.rate_burst),
      claims_(claims ? std::make_unique<const auth::Claims>(std::move(*claims)) : nullptr) {
  if (!claims_) return;
  user_ = claims_->subject;
  if (claims_->name) {
    if (Result<std::string> name = normalize_name(*claims_->name)) name_ = std::move(name).value();
  }
  if (limits_.jwt != nullptr) deadline_ = limits_.jwt->deadline(*claims_);
}

void PlainTextSession::start() {
  // Under --auth jwt the upgrade checked the token and the room; this is the
  // last line of defence should a connection get here without them.
  if (limits_.jwt != nullptr && (!claims_ || !auth::allows_room(*claims_, room_))) {
    transport_.close(claims_ ? kCloseForbidden : kCloseUnauthorized, "token required");
    return;
  }
  add_room(room_);
  hub_.join(ref_, JoinRequest{room_, user_, name_, Protocol::PlainText, std::nullopt});
}

void PlainTextSession::tick() {
  // The seed's page cannot refresh a token: at the end it is closed, and
  // reconnects with a fresh URL from its embedding page.
  if (claims_ && limits_.jwt != nullptr && auth::Clock::now() >= deadline_) {
    transport_.close(kCloseTokenExpired, "token expired");
  }
}

void PlainTextSession::join_refused(std::string_view room) {
  remove_room(room);
  deliver(make_shared_text(std::string(kRoomLimitNotice)));
  transport_.close(ws::close_code::TryAgainLater, "room limit");
}

void PlainTextSession::kicked(std::string_view room) {
  if (!in_room(room)) return;
  remove_room(room);
  hub_.leave(ref_, std::string(room));
  deliver(make_shared_text(std::string(kKickedNotice)));
  transport_.close(kCloseKicked, "removed from the room");
}

void PlainTextSession::join_unavailable(std::string_view room) {
  // Told in the seed's style, then closed so that its page reconnects (and
  // rejoins) once the engine is back.
  remove_room(room);
  deliver(unavailable_notice());
  transport_.close(ws::close_code::TryAgainLater, "unavailable");
}

void PlainTextSession::on_text(std::string_view text) {
  auto now = std::chrono::steady_clock::now();
  // The connection's rate, then the one its address shares (docs/SECURITY.md,
  // "Rates per address").
  if (!rate_.take(now) || !address_allows(now)) {
    // The seed's protocol has no error message: a flood is dropped, and a
    // client that keeps flooding is closed (1008) like a JSON one.
    if (recent_drops_.note(now, limits_.abuse_window) > limits_.abuse_errors) {
      transport_.close(ws::close_code::PolicyViolation, "too many messages");
    }
    return;
  }
  // One text limit for both protocols: a longer message is neither relayed
  // nor stored, and the sender is told in the seed's own style.
  if (text.size() > limits_.max_text_bytes) {
    deliver(too_long_notice());
    return;
  }
  // The seed has no notion of an ack or a client id: fire and forget. Any
  // text within the limit is relayed, empty text included, as the seed does.
  hub_.send(ref_, SendRequest{room_, {}, std::string(text)});
}

}  // namespace parley::chat
