// The seed's protocol: a connection to /wss or /ws/<room> without a
// subprotocol is in exactly that room; each text message goes verbatim to the
// others; joins and leaves are announced in the seed's words.
#pragma once

#include <chrono>
#include <memory>

#include "auth/jwt_claims.h"
#include "chat/chat_session.h"
#include "chat/json_session.h"
#include "chat/recent_events.h"
#include "chat/token_bucket.h"

namespace parley::chat {

class PlainTextSession final : public ChatSession {
 public:
  // What a sender of a message over --max-text-bytes is told ("message too long").
  static constexpr std::string_view kTooLongNotice = "系统通知: 消息过长";

  // `guest_number` names the connection "guest-<n>" for JSON members;
  // `run_tag` (which must outlive the session) makes its user id unique
  // across server restarts. Under --auth
  // jwt, `claims` are those of the `?token=` checked at the upgrade: the
  // token's user and name instead of a guest's.
  PlainTextSession(ChatHub& hub, uint32_t loop, ChatTransport& transport, std::string room,
                   uint64_t guest_number, std::string_view run_tag,
                   const JsonSessionOptions& limits,
                   std::optional<auth::Claims> claims = std::nullopt);

  Protocol protocol() const override { return Protocol::PlainText; }
  void start() override;
  void on_text(std::string_view text) override;
  void on_text_too_long() override;
  void join_refused(std::string_view room) override;
  // Removed from its one room by the backend API: told in the seed's style
  // (kKickedNotice) and closed with kCloseKicked.
  void kicked(std::string_view room) override;
  static constexpr std::string_view kKickedNotice = "系统通知: 你已被移出房间";
  void join_unavailable(std::string_view room) override;
  void tick() override;
  // What a client whose room cannot be opened is told before it is closed
  // (1013, try again later): "the server has reached its room limit".
  static constexpr std::string_view kRoomLimitNotice = "系统通知: 房间数量已达上限";

 private:
  // Its room is its one entry in rooms(); its user id and name are built
  // when it joins (the room keeps them), so an idle session holds no strings.
  const JsonSessionOptions& limits_;
  std::string_view run_tag_;  // the server's: outlives every session
  uint64_t guest_number_;
  // The rates a message must pass (the connection's and its address's,
  // messages and bytes): false when it is dropped (and counted as abuse).
  bool within_rates(std::size_t bytes);

  TokenBucket rate_;
  TokenBucket byte_rate_;
  RecentEvents<std::chrono::steady_clock::time_point> recent_drops_;
  // Under --auth jwt only: on the heap, so that a guest's session does not
  // carry ~180 bytes of empty claims (docs/BENCHMARKS.md, memory per connection).
  std::unique_ptr<const auth::Claims> claims_;
  auth::Clock::time_point deadline_{};
};

}  // namespace parley::chat
