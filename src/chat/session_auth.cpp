#include "chat/session_auth.h"

namespace parley::chat {

std::optional<SessionAuth::Refusal> SessionAuth::accept(
    std::string_view hello_token, const std::optional<auth::Claims>& from_upgrade,
    auth::Clock::time_point now) {
  if (hello_token.empty()) {
    if (!from_upgrade) {
      return Refusal{ErrorCode::Unauthorized, "missing", kCloseUnauthorized,
                     "this server needs a token: `hello.token` or `?token=`"};
    }
    take(*from_upgrade);
    return std::nullopt;
  }
  Result<auth::Claims> claims = verifier_.verify(hello_token, now);
  if (!claims) return refusal_for(claims.error(), /*closing=*/true);
  take(std::move(claims).value());
  return std::nullopt;
}

std::optional<SessionAuth::Refusal> SessionAuth::refresh(std::string_view token,
                                                         auth::Clock::time_point now) {
  Result<auth::Claims> claims = verifier_.verify(token, now);
  if (!claims) return refusal_for(claims.error(), /*closing=*/false);
  if (claims->subject != claims_->subject) {
    return Refusal{ErrorCode::Unauthorized, "subject_changed", 0,
                   "a refresh token must be for the same user (`sub`)"};
  }
  take(std::move(claims).value());
  return std::nullopt;
}

void SessionAuth::take(auth::Claims claims) {
  claims_ = std::move(claims);
  deadline_ = verifier_.deadline(*claims_);
  warned_ = false;
}

SessionAuth::Refusal SessionAuth::refusal_for(const Error& error, bool closing) const {
  std::optional<auth::Rejection> why = auth::rejection_of(error);
  bool expired = why == auth::Rejection::Expired;
  std::string reason = why ? std::string(auth::rejection_name(*why)) : "invalid";
  uint16_t close = !closing ? 0 : expired ? kCloseTokenExpired : kCloseUnauthorized;
  return Refusal{expired ? ErrorCode::TokenExpired : ErrorCode::Unauthorized, reason, close,
                 error.message};
}

int64_t SessionAuth::expires_at() const {
  return std::chrono::duration_cast<std::chrono::seconds>(claims_->expires_at.time_since_epoch())
      .count();
}

int64_t SessionAuth::seconds_left(auth::Clock::time_point now) const {
  return std::chrono::duration_cast<std::chrono::seconds>(deadline_ - now).count();
}

SessionAuth::Due SessionAuth::tick(auth::Clock::time_point now) {
  if (!claims_) return Due::Nothing;
  if (now >= deadline_) return Due::Expire;
  if (!warned_ && now >= deadline_ - warning_) {
    warned_ = true;
    return Due::Warn;
  }
  return Due::Nothing;
}

}  // namespace parley::chat
