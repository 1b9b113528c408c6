// A connection's identity under --auth jwt (docs/PROTOCOL.md, "Authentication"):
// the claims of its verified token, when they run out, and the one warning
// before they do. Pure: the time is passed in, the session acts on the answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt_verifier.h"
#include "chat/json_protocol.h"

namespace parley::chat {

class SessionAuth {
 public:
  // Why a token was not accepted: the protocol error (with its `reason`) and,
  // when the connection cannot go on, the close code.
  struct Refusal {
    ErrorCode code;
    std::string reason;
    uint16_t close;  // 0: keep the connection (a refused refresh)
    std::string message;
  };

  SessionAuth(const auth::JwtVerifier& verifier, std::chrono::seconds warning)
      : verifier_(verifier), warning_(warning) {}

  // The connection's first token: the `hello`'s, else the one checked at the
  // upgrade (`?token=`). A connection without one is refused.
  std::optional<Refusal> accept(std::string_view hello_token,
                                const std::optional<auth::Claims>& from_upgrade,
                                auth::Clock::time_point now);
  // A fresh token for the same user; the old one stays in force if refused.
  std::optional<Refusal> refresh(std::string_view token, auth::Clock::time_point now);

  bool accepted() const { return claims_.has_value(); }
  const auth::Claims& claims() const { return *claims_; }
  bool allows(std::string_view room) const { return auth::allows_room(*claims_, room); }
  int64_t expires_at() const;  // Unix seconds

  // What the clock brings: nothing yet, the warning (once per token), or the end.
  enum class Due { Nothing, Warn, Expire };
  Due tick(auth::Clock::time_point now);
  int64_t seconds_left(auth::Clock::time_point now) const;

 private:
  Refusal refusal_for(const Error& error, bool closing) const;
  void take(auth::Claims claims);

  const auth::JwtVerifier& verifier_;
  std::chrono::seconds warning_;
  std::optional<auth::Claims> claims_;
  auth::Clock::time_point deadline_{};
  bool warned_ = false;
};

}  // namespace parley::chat
