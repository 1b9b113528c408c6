// Who a JSON client is across connections: a random user id plus a resume
// token that proves it. A client that reconnects with its token is the same
// user, so its resent messages are recognised as duplicates and it keeps its
// name in rooms.
//
// A token is `<user>.<expiry>.<mac>`: the expiry in Unix seconds (issue time
// + --resume-ttl, 7 days by default) and a MAC over both, HMAC-SHA256 under
// the server secret cut to 128 bits, in hex (RFC 2104 §5 allows half the
// hash; 2^-128 per forgery attempt). Every `welcome` carries a fresh token, so
// a user who comes back within the TTL of their last visit stays the same
// user; after it, or with a forged, damaged or pre-expiry (two-part) token,
// the client starts as a new user, which is the documented answer to any
// unknown token. Lowering --resume-ttl applies to tokens issued from then on;
// to revoke every token at once, replace the secret file.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace parley::chat {

class Identity {
 public:
  // Wall time: tokens outlive the process and are checked after a restart.
  using Clock = std::chrono::system_clock;
  static constexpr std::chrono::seconds kDefaultResumeTtl{7 * 24 * 3600};

  // `secret`: at least 32 random bytes, kept across restarts (see load_or_create_secret).
  explicit Identity(std::string secret, std::chrono::seconds resume_ttl = kDefaultResumeTtl)
      : secret_(std::move(secret)), ttl_(resume_ttl) {}

  std::string new_user_id() const;
  // A token proving `user_id` (at most 64 bytes, no `.`) until now + TTL:
  // at most 108 bytes, printable ASCII.
  std::string token_for(std::string_view user_id, Clock::time_point now = Clock::now()) const;
  // The user id a token proves, or nullopt for an expired, forged or malformed token.
  std::optional<std::string> verify(std::string_view token,
                                    Clock::time_point now = Clock::now()) const;

  std::chrono::seconds resume_ttl() const { return ttl_; }

  // Reads `path`, or creates it with fresh random bytes (mode 0600). Returns
  // nullopt and sets `error` when neither works.
  static std::optional<std::string> load_or_create_secret(const std::string& path,
                                                          std::string& error);

 private:
  std::string token(std::string_view user_id, int64_t expiry) const;

  std::string secret_;
  std::chrono::seconds ttl_;
};

}  // namespace parley::chat
