// The claims of a JSON Web Token and the rules they must follow (see
// auth/jwt_verifier.h for the whole verification), and the kinds of
// rejection. The parsers run on simdjson and never throw.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace parley::auth {

using Clock = std::chrono::system_clock;

inline constexpr std::size_t kMaxTokenBytes = 8192;

// Why a token was refused: carried in Error::detail of verify()'s errors.
// The numbers and names are stable (docs/PROTOCOL-AUTH.md maps them to
// protocol errors and close codes).
enum class Rejection : unsigned char {
  Malformed = 1,
  AlgorithmNotAllowed = 2,
  BadSignature = 3,
  InvalidClaims = 4,
  WrongAudience = 5,
  Expired = 6,
  NotYetValid = 7,
};

// "malformed", "algorithm_not_allowed", "bad_signature", "invalid_claims",
// "wrong_audience", "expired", "not_yet_valid".
std::string_view rejection_name(Rejection rejection);

// The rejection an error of verify() carries; nullopt for any other error.
std::optional<Rejection> rejection_of(const Error& error);

struct Claims {
  std::string subject;                          // `sub`: the user id
  std::optional<std::string> name;              // `name`: display name, as issued (not validated)
  Clock::time_point expires_at;                 // `exp`
  std::optional<Clock::time_point> not_before;  // `nbf`
  std::optional<Clock::time_point> issued_at;   // `iat`
  std::vector<std::string> audience;            // `aud`, a string becomes one element
  // `rooms`: the room patterns the token allows; nullopt (claim absent)
  // allows every room, an empty array none.
  std::optional<std::vector<std::string>> rooms;
};

// True when `room` matches one of the token's patterns (or the token has no
// `rooms` claim). A pattern is `*` (every room), `prefix*` (rooms starting
// with prefix) or an exact room name. Comparison is byte-wise and
// case-sensitive on the NFC room name, so patterns must be issued in NFC.
bool allows_room(const Claims& claims, std::string_view room);

// An Error (Errc::Invalid) carrying `rejection` in its detail.
Error reject(Rejection rejection, std::string message);

// The `alg` of a JOSE header (the decoded first segment). Malformed when the
// header is not a JSON object with a string `alg`, has a `crit`, or repeats a name.
Result<std::string> parse_header_alg(std::string_view json);

// The claims of a decoded payload whose signature was verified. Checks types
// and shapes (InvalidClaims, or Malformed for bad JSON), not times or audience.
Result<Claims> parse_claims(std::string_view json);

}  // namespace parley::auth
