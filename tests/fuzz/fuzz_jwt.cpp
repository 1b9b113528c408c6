// libFuzzer target for JwtVerifier::verify and the base64url codec.
//
// The first byte picks a mode:
//   0-2: the rest is a token, verified against an HS256, RS256 or ES256 key
//        (the signature paths see any bytes, the ES256 one any r || s);
//   3:   the rest is a JOSE header and a claims object separated by a 0xff
//        byte, signed here with the HS256 secret, so the fuzzer reaches the
//        claim rules behind a valid signature.
// Invariants: verify never crashes, throws or leaks; a refusal carries a
// Rejection; an accepted token has a subject and expires after `now - leeway`;
// the same token gets the same answer twice; base64url decodes what it
// encodes, and anything it decodes re-encodes to the same text (canonical).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/base64url.h"
#include "auth/jwt_verifier.h"

namespace {

using namespace parley::auth;
using parley::Result;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

const char kSecret[] = "fuzz-secret-0123456789-0123456789-abcdef";

// Any RSA and P-256 public keys do: these are tests/unit/fixtures/jwt/'s, so
// the PyJWT tokens there make good seeds.
const char kRsaPem[] = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzjvPNP+UNQUvoqjm46pR
TPaQy4nE/joEl79MjQJCBFVSF+hxx6BYjWDzRoEORmuJxIlMCjLw3ALVUsBX8Bc8
/hhqKN1y742VbQsncu9p2u9UKjNJ2nwNmTlJ2n11XIzwUklnPmJiq18oHyLqNAik
epF2ELDwek68MBFUdvBzFvvhsutDP/60UyJiQ1vSRtaAkNV8mWVjohKACXoLwENU
irxLoMGEEHNT+rd8hTtndwAJJqECtGBBwosNqQ/rCGb19LEG+jLQswy4vdCLVMWs
mjOfFz2M87gUGBKej3ggWM1gE1rGh3ed6yQ8aOaPA6CUD6YLcBRlw2peKIXllmQJ
JwIDAQAB
-----END PUBLIC KEY-----
)";
const char kEcPem[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOny9IosTQLph8bbPbnH2LzeuD98a
C5aiw0tuiNUTvlrlgM/sEkFKNEtHoCAtcDfM7XFoXXC12/VdlY4vMq+3/w==
-----END PUBLIC KEY-----
)";

JwtVerifier make(std::string_view key_bytes) {
  Result<JwtKey> key = JwtKey::from_bytes(key_bytes);
  check(key.has_value(), "fuzz key loads");
  return JwtVerifier(*std::move(key), {std::nullopt, std::chrono::seconds(30)});
}

const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1893456000));

void check_verify(const JwtVerifier& verifier, std::string_view token) {
  Result<Claims> first = verifier.verify(token, kNow);
  Result<Claims> second = verifier.verify(token, kNow);
  check(first.has_value() == second.has_value(), "verify is deterministic");
  if (!first) {
    check(rejection_of(first.error()).has_value(), "a refusal carries a rejection");
    check(!first.error().message.empty(), "a refusal says why");
    return;
  }
  check(!first->subject.empty(), "an accepted token has a subject");
  check(first->expires_at + verifier.options().leeway > kNow, "an accepted token is not expired");
  (void)allows_room(*first, "lobby");
}

std::string sign_hs256(std::string_view header, std::string_view claims) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, sizeof kSecret - 1,
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

void check_base64url(std::string_view bytes) {
  check(base64url_decode(base64url_encode(bytes)) == bytes, "base64url round trip");
  if (std::optional<std::string> decoded = base64url_decode(bytes)) {
    check(base64url_encode(*decoded) == bytes, "base64url decoding is canonical");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const JwtVerifier hs = make(kSecret);
  static const JwtVerifier rs = make(kRsaPem);
  static const JwtVerifier es = make(kEcPem);
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_base64url(rest);
  switch (data[0] % 4) {
    case 0:
      check_verify(hs, rest);
      break;
    case 1:
      check_verify(rs, rest);
      break;
    case 2:
      check_verify(es, rest);
      break;
    default: {
      const std::size_t cut = rest.find('\xff');
      if (cut == std::string_view::npos) return 0;
      check_verify(hs, sign_hs256(rest.substr(0, cut), rest.substr(cut + 1)));
    }
  }
  return 0;
}
