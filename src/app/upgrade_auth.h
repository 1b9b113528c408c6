// `?token=` on the WebSocket upgrade under --auth jwt (docs/PROTOCOL.md,
// "Presenting a token"): checked before the 101, so a refused client never
// gets a WebSocket.
//
// - Plain-text (seed) clients have no `hello`: the token is required; a
//   missing or refused one is a 401 (WWW-Authenticate: Bearer, RFC 6750 §3),
//   a token whose `rooms` do not allow the path's room a 403.
// - parley.v1 clients may give it here or in `hello`: without one the
//   upgrade goes on; a refused one is a 401 (the URL asked for it); a good
//   one becomes the session's token unless `hello` brings its own. Their
//   room comes in `join`, so the path's room is not checked here.
// - Without --auth jwt the parameter is ignored, as `hello.token` is.
// The token is never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt_claims.h"

namespace parley::auth {
class JwtVerifier;
}

namespace parley::app {

struct UpgradeAuth {
  std::optional<auth::Claims> claims;  // a verified `?token=`
  std::string refusal;                 // the 401/403 to answer; empty: go on
};

UpgradeAuth check_upgrade_token(const auth::JwtVerifier* jwt, std::string_view target,
                                bool plain_text, std::string_view room,
                                auth::Clock::time_point now);

// The query parameter `name` of a request target, percent-decoded ('+' is a
// space, as in a form); nullopt when absent or badly encoded.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

}  // namespace parley::app
