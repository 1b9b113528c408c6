#include "auth/jwt_claims.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "base/padded_json.h"

namespace parley::auth {
namespace {

// Custom claims may nest (identity providers put role objects in tokens);
// what we read is at most two levels deep.
constexpr std::size_t kMaxDepth = 16;
constexpr std::size_t kMaxHeaderMembers = 32;
constexpr std::size_t kMaxClaimMembers = 256;
constexpr std::size_t kMaxClaimStringBytes = 256;
constexpr std::size_t kMaxAudiences = 64;
constexpr std::size_t kMaxRoomPatterns = 256;
// NumericDates are clamped to [0, this]: the year 2255, the last second a
// nanosecond system_clock holds with room for the leeway. A far "never
// expires" exp (9999999999) thus stays valid for two centuries.
constexpr double kMaxNumericDate = 9e9;

Error malformed(std::string message) {
  return reject(Rejection::Malformed, std::move(message));
}

Error invalid_claim(std::string_view claim, std::string_view rule) {
  return reject(Rejection::InvalidClaims,
                "claim `" + std::string(claim) + "` " + std::string(rule));
}

// The object at the root of `json`, with its member names checked for
// duplicates (RFC 7515 §4 and RFC 7519 §4 allow refusing them; two `alg`s or
// two `exp`s read differently by two parsers are how forgeries start).
Result<simdjson::dom::object> parse_object(std::string_view json, std::string_view what,
                                           std::size_t max_members) {
  if (json.size() > kMaxTokenBytes) return malformed(std::string(what) + " too long");
  simdjson::dom::element root;
  simdjson::dom::object object;
  try {
    // simdjson needs padding past the input: see base/padded_json.h.
    thread_local PaddedJsonParser parser(kMaxTokenBytes, kMaxDepth);
    if (parser.parse(json, root) || root.get(object)) {
      return malformed(std::string(what) + " is not a JSON object");
    }
  } catch (const std::bad_alloc&) {
    return Error{Errc::Internal, "out of memory"};
  }
  std::vector<std::string_view> names;
  for (const auto field : object) {
    if (names.size() == max_members) return malformed(std::string(what) + " has too many members");
    names.push_back(field.key);
  }
  std::sort(names.begin(), names.end());
  if (const auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
    return malformed(std::string(what) + " repeats `" + std::string(*dup) + "`");
  }
  return object;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// `*`, `prefix*` or an exact name: a star is allowed only at the end.
bool is_room_pattern(std::string_view p) {
  if (p.empty() || p.size() > kMaxClaimStringBytes || has_control(p)) return false;
  const std::size_t star = p.find('*');
  return star == std::string_view::npos || star == p.size() - 1;
}

Result<Clock::time_point> numeric_date(simdjson::dom::element value, std::string_view claim) {
  double seconds = 0;
  if (!value.is_number() || value.get_double().get(seconds)) {
    return invalid_claim(claim, "must be a number of seconds since 1970");
  }
  seconds = std::clamp(seconds, 0.0, kMaxNumericDate);
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
}

// A string, or an array of strings, each at most kMaxClaimStringBytes.
Status string_list(simdjson::dom::element value, std::string_view claim, std::size_t max_entries,
                   bool allow_single, std::vector<std::string>& out) {
  std::string_view single;
  if (allow_single && !value.get(single)) {
    if (single.size() > kMaxClaimStringBytes) return invalid_claim(claim, "is too long");
    out.emplace_back(single);
    return {};
  }
  simdjson::dom::array array;
  if (value.get(array)) {
    return invalid_claim(claim, allow_single ? "must be a string or an array of strings"
                                             : "must be an array of strings");
  }
  for (const auto entry : array) {
    std::string_view s;
    if (entry.get(s)) return invalid_claim(claim, "must hold only strings");
    if (s.size() > kMaxClaimStringBytes) return invalid_claim(claim, "holds a string too long");
    if (out.size() == max_entries) return invalid_claim(claim, "has too many entries");
    out.emplace_back(s);
  }
  return {};
}

Status read_string(simdjson::dom::element value, std::string_view claim, std::string& out) {
  std::string_view s;
  if (value.get(s)) return invalid_claim(claim, "must be a string");
  if (s.size() > kMaxClaimStringBytes) return invalid_claim(claim, "is over 256 bytes");
  out = s;
  return {};
}

// One registered claim we use; others are ignored.
Status read_claim(std::string_view key, simdjson::dom::element value, Claims& claims,
                  bool& has_exp) {
  if (key == "sub") {
    if (Status s = read_string(value, key, claims.subject); !s) return s;
    if (claims.subject.empty() || has_control(claims.subject)) {
      return invalid_claim(key, "must be 1-256 bytes without control characters");
    }
  } else if (key == "name") {
    if (value.is_null()) return {};
    if (Status s = read_string(value, key, claims.name.emplace()); !s) return s;
  } else if (key == "exp" || key == "nbf" || key == "iat") {
    Result<Clock::time_point> t = numeric_date(value, key);
    if (!t) return std::move(t).error();
    if (key == "exp") {
      claims.expires_at = *t;
      has_exp = true;
    } else {
      (key == "nbf" ? claims.not_before : claims.issued_at) = *t;
    }
  } else if (key == "aud") {
    return string_list(value, key, kMaxAudiences, /*allow_single=*/true, claims.audience);
  } else if (key == "rooms") {
    if (Status s = string_list(value, key, kMaxRoomPatterns, false, claims.rooms.emplace()); !s) {
      return s;
    }
    if (!std::all_of(claims.rooms->begin(), claims.rooms->end(), is_room_pattern)) {
      return invalid_claim(key, "holds a pattern other than `*`, `prefix*` or a room name");
    }
  }
  return {};
}

}  // namespace

std::string_view rejection_name(Rejection rejection) {
  switch (rejection) {
    case Rejection::Malformed:
      return "malformed";
    case Rejection::AlgorithmNotAllowed:
      return "algorithm_not_allowed";
    case Rejection::BadSignature:
      return "bad_signature";
    case Rejection::InvalidClaims:
      return "invalid_claims";
    case Rejection::WrongAudience:
      return "wrong_audience";
    case Rejection::Expired:
      return "expired";
    case Rejection::NotYetValid:
      return "not_yet_valid";
  }
  return "malformed";
}

std::optional<Rejection> rejection_of(const Error& error) {
  if (error.code != Errc::Invalid ||
      error.detail < static_cast<unsigned char>(Rejection::Malformed) ||
      error.detail > static_cast<unsigned char>(Rejection::NotYetValid)) {
    return std::nullopt;
  }
  return static_cast<Rejection>(error.detail);
}

Error reject(Rejection rejection, std::string message) {
  Error error{Errc::Invalid, std::move(message)};
  error.detail = static_cast<unsigned char>(rejection);
  return error;
}

bool allows_room(const Claims& claims, std::string_view room) {
  if (!claims.rooms) return true;
  return std::any_of(claims.rooms->begin(), claims.rooms->end(), [room](std::string_view p) {
    if (p.ends_with('*')) return room.starts_with(p.substr(0, p.size() - 1));
    return room == p;
  });
}

Result<std::string> parse_header_alg(std::string_view json) {
  Result<simdjson::dom::object> object = parse_object(json, "header", kMaxHeaderMembers);
  if (!object) return std::move(object).error();
  simdjson::dom::element value;
  if (!object->at_key("crit").get(value)) {
    return malformed("header has `crit`: no JWS extension is supported");
  }
  std::string_view alg;
  if (object->at_key("alg").get(value) || value.get(alg)) {
    return malformed("header has no string `alg`");
  }
  return std::string(alg);
}

Result<Claims> parse_claims(std::string_view json) {
  Result<simdjson::dom::object> object = parse_object(json, "claims", kMaxClaimMembers);
  if (!object) return std::move(object).error();
  Claims claims;
  bool has_exp = false;
  try {
    for (const auto field : *object) {
      if (Status s = read_claim(field.key, field.value, claims, has_exp); !s) return s.error();
    }
  } catch (const std::bad_alloc&) {
    return Error{Errc::Internal, "out of memory"};
  }
  if (claims.subject.empty()) return invalid_claim("sub", "is required");
  if (!has_exp) return invalid_claim("exp", "is required");
  return claims;
}

}  // namespace parley::auth
