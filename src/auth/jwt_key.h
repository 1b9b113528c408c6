// The key that verifies JSON Web Tokens, and the one algorithm it accepts.
//
// The key decides the algorithm, never the token: an HS256 secret accepts
// only HS256, an RSA public key only RS256, an EC P-256 public key only
// ES256. A token's `alg` header is compared with that one name before any
// cryptography runs, so `alg: none`, an HS256 token "signed" with the RSA
// public key as its HMAC secret, or an ES256 token against an RSA key are
// refused by construction, not by a check someone may forget.
//
// Key files (`--jwt-key`):
// - a PEM public key: `PUBLIC KEY` (SubjectPublicKeyInfo), `RSA PUBLIC KEY`
//   (PKCS#1) or a `CERTIFICATE` whose public key is used. RSA keys need at
//   least 2048 bits (RS256); EC keys must be on P-256 (ES256). A PEM private
//   key is refused: the server only verifies, it must not hold the key that
//   signs.
// - anything else is an HS256 shared secret: the file's bytes, one trailing
//   newline (LF or CRLF) removed, at least 32 bytes (RFC 7518 §3.2: a key as
//   long as the hash).
//
// Thread safety: a JwtKey is immutable after loading; verify() may run on
// every event loop at once (each call uses its own OpenSSL context).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "base/result.h"

namespace parley::auth {

enum class Algorithm : unsigned char { HS256, RS256, ES256 };

// The JWS `alg` name ("HS256", ...).
std::string_view algorithm_name(Algorithm algorithm);

class JwtKey {
 public:
  // From the contents of a key file (see above). Errors are Errc::Invalid
  // with a one-line message saying what is wrong with the key.
  static Result<JwtKey> from_bytes(std::string_view bytes);
  // Reads `path` (at most 64 KiB) and calls from_bytes. Messages start with the path.
  static Result<JwtKey> from_file(const std::string& path);

  Algorithm algorithm() const { return algorithm_; }

  // True when `signature` (the decoded third segment of a JWS) signs
  // `signing_input` (the first two segments with their dot) under this key
  // and its algorithm. Constant-time for HS256.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  JwtKey(Algorithm algorithm, std::string secret, std::shared_ptr<EVP_PKEY> public_key)
      : algorithm_(algorithm), secret_(std::move(secret)), public_key_(std::move(public_key)) {}

  static Result<JwtKey> from_pem(std::string_view pem);
  bool verify_hmac(std::string_view signing_input, std::string_view signature) const;
  bool verify_public_key(std::string_view signing_input, std::string_view signature) const;

  Algorithm algorithm_;
  std::string secret_;                    // HS256
  std::shared_ptr<EVP_PKEY> public_key_;  // RS256, ES256
};

}  // namespace parley::auth
