// A parley.v1 connection: hello first, then any number of rooms; every
// request is validated, rate limited and answered (docs/PROTOCOL.md).
// Malformed input gets an error event; a client that keeps erring is closed
// with 1008 so it cannot make the server spend on it without bound.
#pragma once

#include <chrono>
#include <string>

#include "chat/attachment.h"
#include "chat/chat_session.h"
#include "chat/client_message.h"
#include "chat/identity.h"
#include "chat/message_log.h"
#include "chat/recent_events.h"
#include "chat/session_auth.h"
#include "chat/token_bucket.h"

namespace parley::chat {

struct JsonSessionOptions {
  std::size_t max_message_bytes = 1 << 20;  // the WebSocket limit, for welcome
  std::size_t max_text_bytes = 4000;
  std::size_t max_rooms = 32;
  std::size_t history_page_max = 200;
  std::size_t history_in_flight = 2;  // `history` requests waiting for an answer, per connection
  std::size_t search_page_max = 50;
  std::size_t search_in_flight = 2;  // `search` requests waiting for an answer, per connection
  ChangeRules rules{};               // what the History enforces, for welcome.limits
  double rate_per_sec = 50;          // requests
  double rate_burst = 500;
  // Bytes of messages (as received, inflated) per connection per second,
  // with a burst of at least the largest message; 0 = no limit.
  double byte_rate = 0;
  double byte_burst = 0;
  std::size_t abuse_errors = 20;  // errors within abuse_window close the connection
  std::chrono::seconds abuse_window{10};
  std::string server = "parley";
  // --auth jwt: every connection needs a token (null: guests, as the seed).
  const auth::JwtVerifier* jwt = nullptr;
  std::chrono::seconds token_warning{60};  // token_expiring this long before the end
  // Uploads: where a send's `file` is claimed (null: files are refused).
  Attachments* attachments = nullptr;
  std::size_t max_upload_bytes = 0;  // for welcome.limits; 0 with no attachments
};

class JsonSession final : public ChatSession {
 public:
  using Clock = std::chrono::steady_clock;
  // `upgrade_claims`: a token already verified at the upgrade (`?token=`).
  JsonSession(ChatHub& hub, uint32_t loop, ChatTransport& transport, const Identity& identity,
              const JsonSessionOptions& options, std::string session_id,
              std::optional<auth::Claims> upgrade_claims = std::nullopt);

  Protocol protocol() const override { return Protocol::Json; }
  void start() override {}
  void on_text(std::string_view text) override;
  void history_answered() override;
  void search_answered() override;
  void tick() override;

 private:
  // One handler per request type, after validation and the rate limit.
  void on_request(Hello& m);
  void on_request(Join& m);
  void on_request(Leave& m);
  void on_request(Send& m);
  void on_request(Typing& m);
  void on_request(HistoryRequest& m);
  void on_request(Rename& m);
  void on_request(MembersRequest& m);
  void on_request(Edit& m);
  void on_request(Delete& m);
  void on_request(React& m);
  void on_request(Unreact& m);
  void on_request(SearchRequest& m);
  void on_request(RoomsRequest& m);
  // A change's room must be joined; false (and the error sent) when not.
  bool in_room_for(std::string_view room, std::string_view type, std::string_view id);
  void on_request(Refresh& m);
  // Hello's identity: a guest's, or (--auth jwt) the token's. False when the
  // connection was refused.
  bool identify(Hello& m);
  void refuse(const SessionAuth::Refusal& refusal, std::string_view ref);
  void join_refused(std::string_view room) override;
  void kicked(std::string_view room) override;
  void join_unavailable(std::string_view room) override;

  // Answers an error; too many of them close the connection (abuse).
  void fail(ErrorCode code, std::string_view message, std::string_view ref,
            std::string_view id = {}, std::string_view room = {});
  // The rates a request must pass: its connection's and its address's,
  // for requests and for bytes. The refusal, if any.
  std::optional<Refused> over_rate(std::size_t bytes);

  const Identity& identity_;
  const JsonSessionOptions& options_;
  std::string session_id_;
  std::string user_;  // empty until hello
  std::string name_;
  TokenBucket request_rate_;
  TokenBucket typing_rate_;
  TokenBucket byte_rate_;
  RecentEvents<Clock::time_point> recent_errors_;
  std::size_t history_in_flight_ = 0;
  std::size_t search_in_flight_ = 0;
  std::optional<auth::Claims> upgrade_claims_;
  std::optional<SessionAuth> auth_;  // --auth jwt
  bool name_from_token_ = false;
  Clock::time_point now_{};  // of the request being handled
};

}  // namespace parley::chat
