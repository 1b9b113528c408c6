// Who a JSON client is across connections: a random user id plus a resume
// token that proves it (HMAC-SHA256 of the id under a server secret). A client
// that reconnects with its token is the same user, so its resent messages are
// recognised as duplicates and it keeps its name in rooms.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::chat {

class Identity {
 public:
  // `secret`: at least 32 random bytes, kept across restarts (see load_or_create_secret).
  explicit Identity(std::string secret) : secret_(std::move(secret)) {}

  std::string new_user_id() const;
  std::string token_for(std::string_view user_id) const;
  // The user id a token proves, or nullopt for a forged or malformed token.
  std::optional<std::string> verify(std::string_view token) const;

  // Reads `path`, or creates it with fresh random bytes (mode 0600). Returns
  // nullopt and sets `error` when neither works.
  static std::optional<std::string> load_or_create_secret(const std::string& path,
                                                          std::string& error);

 private:
  std::string secret_;
};

}  // namespace parley::chat
