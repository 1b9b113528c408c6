#include "auth/jwt_verifier.h"

#include <algorithm>

#include "auth/base64url.h"

namespace parley::auth {
namespace {

struct Segments {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // header.payload
};

// Exactly three non-empty segments: `alg: none` tokens (an empty third
// segment) are refused here already, but as the algorithm they name.
Result<Segments> split(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return reject(Rejection::Malformed, "a token is three base64url segments joined by dots");
  }
  Segments s;
  s.header = token.substr(0, first);
  s.payload = token.substr(first + 1, second - first - 1);
  s.signature = token.substr(second + 1);
  s.signing_input = token.substr(0, second);
  if (s.header.empty() || s.payload.empty()) {
    return reject(Rejection::Malformed, "empty header or payload segment");
  }
  return s;
}

bool within_leeway(Clock::time_point t, Clock::time_point now, std::chrono::seconds leeway) {
  return t <= now + leeway;
}

}  // namespace

Result<Claims> JwtVerifier::verify(std::string_view token, Clock::time_point now) const {
  if (token.size() > kMaxTokenBytes) {
    return reject(Rejection::Malformed, "token over " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  Result<Segments> parts = split(token);
  if (!parts) return std::move(parts).error();
  std::optional<std::string> header = base64url_decode(parts->header);
  if (!header) return reject(Rejection::Malformed, "header is not base64url");
  Result<std::string> alg = parse_header_alg(*header);
  if (!alg) return std::move(alg).error();
  const std::string_view expected = algorithm_name(key_.algorithm());
  if (*alg != expected) {
    // Printable and bounded: the message goes to a log.
    std::string shown = alg->substr(0, 16);
    std::replace_if(
        shown.begin(), shown.end(), [](char c) { return c < 0x20 || c > 0x7e; }, '?');
    return reject(Rejection::AlgorithmNotAllowed, "algorithm \"" + shown +
                                                      "\" is not allowed: the key accepts only " +
                                                      std::string(expected));
  }
  std::optional<std::string> signature = base64url_decode(parts->signature);
  if (!signature) return reject(Rejection::Malformed, "signature is not base64url");
  if (!key_.verify(parts->signing_input, *signature)) {
    return reject(Rejection::BadSignature, "signature does not verify with the configured key");
  }
  std::optional<std::string> payload = base64url_decode(parts->payload);
  if (!payload) return reject(Rejection::Malformed, "payload is not base64url");
  return check_claims(*payload, now);
}

Result<Claims> JwtVerifier::check_claims(std::string_view payload_json,
                                         Clock::time_point now) const {
  Result<Claims> claims = parse_claims(payload_json);
  if (!claims) return claims;
  const std::vector<std::string>& aud = claims->audience;
  if (options_.audience) {
    if (std::find(aud.begin(), aud.end(), *options_.audience) == aud.end()) {
      return reject(Rejection::WrongAudience,
                    "token is not for audience \"" + *options_.audience + "\"");
    }
  } else if (!aud.empty()) {
    return reject(Rejection::WrongAudience,
                  "token names an audience but --jwt-audience is not set");
  }
  if (now >= claims->expires_at + options_.leeway) {
    return reject(Rejection::Expired, "token expired");
  }
  if (claims->not_before && !within_leeway(*claims->not_before, now, options_.leeway)) {
    return reject(Rejection::NotYetValid, "token not valid yet (nbf)");
  }
  if (claims->issued_at && !within_leeway(*claims->issued_at, now, options_.leeway)) {
    return reject(Rejection::NotYetValid, "token issued in the future (iat)");
  }
  return claims;
}

}  // namespace parley::auth
