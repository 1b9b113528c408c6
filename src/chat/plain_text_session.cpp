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
      limits_(limits),
      run_tag_(run_tag),
      guest_number_(guest_number),
      rate_(limits.rate_per_sec, limits.rate_burst),
      byte_rate_(limits.byte_rate, limits.byte_burst),
      claims_(claims ? std::make_unique<const auth::Claims>(std::move(*claims)) : nullptr) {
  // The room is the session's from the start (its one entry in rooms()); it
  // is joined by start().
  add_room(std::move(room));
  if (claims_ && limits_.jwt != nullptr) deadline_ = limits_.jwt->deadline(*claims_);
}

void PlainTextSession::start() {
  // Under --auth jwt the upgrade checked the token and the room; this is the
  // last line of defence should a connection get here without them.
  const std::string room = rooms().front();
  if (limits_.jwt != nullptr && (!claims_ || !auth::allows_room(*claims_, room))) {
    remove_room(room);
    transport_.close(claims_ ? kCloseForbidden : kCloseUnauthorized, "token required");
    return;
  }
  // The user id and name are built here, not kept: after the join the room
  // holds them (docs/BENCHMARKS.md, memory per connection).
  std::string guest = "guest-" + std::to_string(guest_number_);
  std::string user = claims_ ? claims_->subject : guest + "." + std::string(run_tag_);
  std::string name = std::move(guest);
  if (claims_ && claims_->name) {
    if (Result<std::string> n = normalize_name(*claims_->name)) name = std::move(n).value();
  }
  hub_.join(ref_,
            JoinRequest{room, std::move(user), std::move(name), Protocol::PlainText, std::nullopt});
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
  transport_.refused(Refused::RoomLimit);
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

bool PlainTextSession::within_rates(std::size_t bytes) {
  auto now = std::chrono::steady_clock::now();
  // The connection's rate, then the one its address shares (docs/SECURITY.md,
  // "Rates per address"); for messages, then for bytes.
  std::optional<Refused> refusal;
  if (!rate_.take(now) || !address_allows(now)) {
    refusal = Refused::RateLimited;
  } else if (!byte_rate_.take(now, static_cast<double>(bytes)) ||
             !address_allows_bytes(now, bytes)) {
    refusal = Refused::ByteRate;
  }
  if (!refusal) return true;
  transport_.refused(*refusal);
  // The seed's protocol has no error message: a flood is dropped, and a
  // client that keeps flooding is closed (1008) like a JSON one.
  if (recent_drops_.note(now, limits_.abuse_window) > limits_.abuse_errors) {
    transport_.close(ws::close_code::PolicyViolation, "too many messages");
  }
  return false;
}

void PlainTextSession::on_text(std::string_view text) {
  if (!within_rates(text.size())) return;
  // One text limit for both protocols: a longer message is neither relayed
  // nor stored, and the sender is told in the seed's own style.
  if (text.size() > limits_.max_text_bytes) {
    transport_.refused(Refused::TextTooLong);
    deliver(too_long_notice());
    return;
  }
  // The seed has no notion of an ack or a client id: fire and forget. Any
  // text within the limit is relayed, empty text included, as the seed does.
  if (rooms().empty()) return;  // refused or removed: closing
  hub_.send(ref_, SendRequest{rooms().front(), {}, std::string(text)});
}

void PlainTextSession::on_text_too_long() {
  // Skipped unread by the WebSocket layer: it costs a message of the rate
  // (and the bytes that were read of it: the limit) and is answered as above.
  if (!within_rates(limits_.max_text_bytes)) return;
  transport_.refused(Refused::TextTooLong);
  deliver(too_long_notice());
}

}  // namespace parley::chat
