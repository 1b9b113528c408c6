// Verification of JSON Web Tokens (RFC 7519) signed as a JWS compact
// serialization (RFC 7515): `--auth jwt`.
//
// Why our own verifier on OpenSSL + simdjson rather than a JWT library: the
// two in Debian 12 both let the token choose the algorithm. libjwt 1.10
// (`jwt_decode`) takes `alg` from the header and uses whatever key bytes it is
// given as an HMAC secret, so an HS256 token "signed" with the RSA public key
// verifies unless every caller remembers to compare jwt_get_alg() afterwards;
// every failure is one EINVAL (no expired / bad signature / malformed), and it
// checks no claims. cpp-jwt 1.4 compares HMAC signatures with `==` (the timing
// leak Debian patched in libjwt as CVE-2024-25189), reads the system clock
// itself (no injected time, so no deterministic tests), accepts `aud` only as
// a string, computes `nbf - leeway` in unsigned arithmetic, and throws through
// nlohmann::json on wrong claim types. Here the key pins the one algorithm
// (auth/jwt_key.h), OpenSSL does all the cryptography (HMAC, RSA PKCS#1 v1.5,
// ECDSA), simdjson parses header and claims, and the only code written by hand
// is the strict base64url decoder (auth/base64url.h) and the claim rules below.
//
// What verify() checks, in this order (the first failure is reported):
// 1. shape: at most kMaxTokenBytes, three base64url segments, a JSON object
//    header with a string `alg`, no `crit` (we implement no extension), no
//    duplicate names                                          -> Malformed
// 2. `alg` equals the key's algorithm (so never `none`)      -> AlgorithmNotAllowed
// 3. the signature, before the claims are even decoded       -> BadSignature
// 4. claims: a JSON object without duplicate names; `sub` a string of 1-256
//    bytes without control characters; `exp` a number; `nbf`, `iat` numbers
//    if present (NumericDates from 0 to 1e11, fractions allowed); `name` a
//    string of at most 256 bytes; `aud` a string or an array of strings;
//    `rooms` an array of room patterns (see allows_room); other claims are
//    ignored                                                   -> InvalidClaims
// 5. `aud`: with an audience configured, `aud` must be it or contain it;
//    without one, a token that names an audience is refused, as RFC 7519
//    §4.1.3 asks (it was issued for someone else)             -> WrongAudience
// 6. now < exp + leeway                                        -> Expired
// 7. now + leeway >= nbf, and >= iat                           -> NotYetValid
//
// verify() is const and thread-safe: one verifier serves every event loop.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt_claims.h"
#include "auth/jwt_key.h"
#include "base/result.h"

namespace parley::auth {

struct VerifierOptions {
  std::optional<std::string> audience;  // --jwt-audience
  std::chrono::seconds leeway{30};      // --jwt-leeway: clock skew tolerated on exp, nbf, iat
};

class JwtVerifier {
 public:
  JwtVerifier(JwtKey key, VerifierOptions options)
      : key_(std::move(key)), options_(std::move(options)) {}

  Algorithm algorithm() const { return key_.algorithm(); }
  const VerifierOptions& options() const { return options_; }

  // The claims of a valid token, or an Error (Errc::Invalid) whose `detail`
  // is a Rejection and whose message says which rule failed, for the log.
  Result<Claims> verify(std::string_view token, Clock::time_point now) const;

  // When a connection authenticated by `claims` must be closed: exp + leeway,
  // the moment verify() stops accepting the token.
  Clock::time_point deadline(const Claims& claims) const {
    return claims.expires_at + options_.leeway;
  }

 private:
  Result<Claims> check_claims(std::string_view payload_json, Clock::time_point now) const;

  JwtKey key_;
  VerifierOptions options_;
};

}  // namespace parley::auth
