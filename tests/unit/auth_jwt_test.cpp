// JwtVerifier::verify, rule by rule, with tokens signed in the test (see
// auth_test_signer.h): good HS256/RS256/ES256 tokens, every refusal with its
// Rejection, and the `rooms` patterns.
#include <gtest/gtest.h>

#include <string>

#include "auth/base64url.h"
#include "auth/jwt_verifier.h"
#include "auth_test_signer.h"

namespace parley::auth {
namespace {

using std::chrono::seconds;
using namespace testing;  // NOLINT: the signing helpers

const Clock::time_point kNow = Clock::time_point(seconds(1893456000));  // 2030-01-01
const std::string kSecret = "0123456789abcdef0123456789abcdef-hs256";
// Valid for an hour from kNow.
const std::string kClaims = R"({"sub":"u1","name":"Ana","iat":1893455990,"exp":1893459600})";

std::string claims_with(std::string_view extra) {
  return R"({"sub":"u1","exp":1893459600,)" + std::string(extra) + "}";
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  // Key generation is slow under the sanitizers: once for the whole suite.
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    other_rsa_ = EVP_RSA_gen(2048);
    ec_ = EVP_EC_gen("P-256");
    other_ec_ = EVP_EC_gen("P-256");
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY* k : {rsa_, other_rsa_, ec_, other_ec_}) EVP_PKEY_free(k);
  }

  static JwtVerifier verifier_for(std::string_view key_bytes, VerifierOptions options = {}) {
    Result<JwtKey> key = JwtKey::from_bytes(key_bytes);
    if (!key) throw std::runtime_error(key.error().message);
    return JwtVerifier(*std::move(key), std::move(options));
  }
  static JwtVerifier hs(VerifierOptions options = {}) { return verifier_for(kSecret, options); }
  static JwtVerifier rs(VerifierOptions options = {}) {
    return verifier_for(pem_of(rsa_), options);
  }
  static JwtVerifier es(VerifierOptions options = {}) { return verifier_for(pem_of(ec_), options); }

  static Rejection rejection(const JwtVerifier& v, std::string_view token,
                             Clock::time_point now = kNow) {
    Result<Claims> claims = v.verify(token, now);
    if (claims) {
      ADD_FAILURE() << "accepted: " << token;
      return Rejection::Malformed;
    }
    const std::optional<Rejection> r = rejection_of(claims.error());
    EXPECT_TRUE(r) << claims.error().message;
    return r.value_or(Rejection::Malformed);
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* other_rsa_ = nullptr;
  static inline EVP_PKEY* ec_ = nullptr;
  static inline EVP_PKEY* other_ec_ = nullptr;
};

TEST_F(JwtVerifierTest, AcceptsGoodTokensOfEachAlgorithm) {
  const std::pair<JwtVerifier, std::string> cases[] = {
      {hs(), sign_hs256(kSecret, kClaims)},
      {rs(), sign_rs256(rsa_, kClaims)},
      {es(), sign_es256(ec_, kClaims)},
  };
  for (const auto& [verifier, token] : cases) {
    Result<Claims> claims = verifier.verify(token, kNow);
    ASSERT_TRUE(claims) << algorithm_name(verifier.algorithm()) << ": " << claims.error().message;
    EXPECT_EQ(claims->subject, "u1");
    EXPECT_EQ(claims->name, "Ana");
    EXPECT_EQ(claims->expires_at, Clock::time_point(seconds(1893459600)));
    EXPECT_EQ(claims->issued_at, Clock::time_point(seconds(1893455990)));
    EXPECT_FALSE(claims->not_before);
    EXPECT_FALSE(claims->rooms);
    EXPECT_EQ(verifier.deadline(*claims), claims->expires_at + seconds(30));
  }
}

TEST_F(JwtVerifierTest, ExpiryHonoursTheLeeway) {
  const JwtVerifier v = hs({std::nullopt, seconds(30)});
  const std::string token = sign_hs256(kSecret, kClaims);
  const Clock::time_point exp = Clock::time_point(seconds(1893459600));
  EXPECT_TRUE(v.verify(token, exp + seconds(29)));
  EXPECT_EQ(rejection(v, token, exp + seconds(30)), Rejection::Expired);
  EXPECT_EQ(rejection(v, token, exp + std::chrono::hours(24)), Rejection::Expired);
  // No leeway: expired at exp itself (RFC 7519 §4.1.4: "on or after").
  EXPECT_EQ(rejection(hs({std::nullopt, seconds(0)}), token, exp), Rejection::Expired);
  // Fractional NumericDates are allowed.
  const std::string fractional = sign_hs256(kSecret, R"({"sub":"u1","exp":1893456000.5})");
  EXPECT_TRUE(hs({std::nullopt, seconds(0)}).verify(fractional, kNow));
  // A "never expires" date far in the future stays valid (clamped to 2255).
  EXPECT_TRUE(v.verify(sign_hs256(kSecret, R"({"sub":"u1","exp":9999999999})"), kNow));
}

TEST_F(JwtVerifierTest, NotYetValidTokensAreRefused) {
  const JwtVerifier v = hs({std::nullopt, seconds(30)});
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims_with(R"("nbf":1893456031)"))),
            Rejection::NotYetValid);
  EXPECT_TRUE(v.verify(sign_hs256(kSecret, claims_with(R"("nbf":1893456030)")), kNow));
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims_with(R"("iat":1893457000)"))),
            Rejection::NotYetValid);
  EXPECT_TRUE(v.verify(sign_hs256(kSecret, claims_with(R"("nbf":0,"iat":1)")), kNow));
}

TEST_F(JwtVerifierTest, AlgNoneIsNeverAccepted) {
  const std::string unsigned_input = signing_input(R"({"alg":"none","typ":"JWT"})", kClaims);
  for (const JwtVerifier& v : {hs(), rs(), es()}) {
    EXPECT_EQ(rejection(v, unsigned_input + "."), Rejection::AlgorithmNotAllowed);
    for (const char* alg : {"none", "None", "NONE", "nOnE", ""}) {
      const std::string header = R"({"alg":")" + std::string(alg) + R"("})";
      const std::string input = signing_input(header, kClaims);
      // Even with a signature that would verify under the key's own algorithm.
      const std::string sig = base64url_encode(hmac_sha256(kSecret, input));
      EXPECT_EQ(rejection(v, input + "." + sig), Rejection::AlgorithmNotAllowed) << alg;
    }
  }
  // Unsecured JWS with no third segment at all is not even a JWS.
  EXPECT_EQ(rejection(hs(), unsigned_input), Rejection::Malformed);
}

TEST_F(JwtVerifierTest, HmacWithThePublicKeyAsSecretIsRefused) {
  // The classic confusion: the attacker knows the RSA (or EC) public key and
  // signs an HS256 token with its PEM text as the HMAC secret.
  for (EVP_PKEY* key : {rsa_, ec_}) {
    const std::string pem = pem_of(key);
    const JwtVerifier v = verifier_for(pem);
    for (const std::string& secret : {pem, pem.substr(0, pem.size() - 1)}) {
      EXPECT_EQ(rejection(v, sign_hs256(secret, kClaims)), Rejection::AlgorithmNotAllowed);
    }
  }
}

TEST_F(JwtVerifierTest, EachKeyAcceptsOnlyItsOwnAlgorithm) {
  EXPECT_EQ(rejection(rs(), sign_es256(ec_, kClaims)), Rejection::AlgorithmNotAllowed);
  EXPECT_EQ(rejection(es(), sign_rs256(rsa_, kClaims)), Rejection::AlgorithmNotAllowed);
  EXPECT_EQ(rejection(hs(), sign_rs256(rsa_, kClaims)), Rejection::AlgorithmNotAllowed);
  EXPECT_EQ(rejection(hs(), sign_es256(ec_, kClaims)), Rejection::AlgorithmNotAllowed);
  // A correct ES256 signature relabelled RS256 (and the reverse) is refused too.
  const std::string es_token = sign_es256(ec_, kClaims);
  const std::string relabelled =
      signing_input(R"({"alg":"RS256"})", kClaims) + es_token.substr(es_token.rfind('.'));
  EXPECT_EQ(rejection(es(), relabelled), Rejection::AlgorithmNotAllowed);
  for (const char* alg : {"HS384", "HS512", "RS512", "ES384", "PS256", "EdDSA"}) {
    const std::string input = signing_input(R"({"alg":")" + std::string(alg) + R"("})", kClaims);
    EXPECT_EQ(rejection(hs(), input + ".c2ln"), Rejection::AlgorithmNotAllowed) << alg;
  }
}

TEST_F(JwtVerifierTest, WrongKeysAndTamperingBreakTheSignature) {
  EXPECT_EQ(rejection(hs(), sign_hs256(kSecret + "x", kClaims)), Rejection::BadSignature);
  EXPECT_EQ(rejection(rs(), sign_rs256(other_rsa_, kClaims)), Rejection::BadSignature);
  EXPECT_EQ(rejection(es(), sign_es256(other_ec_, kClaims)), Rejection::BadSignature);
  for (const auto& [v, token] :
       {std::pair{hs(), sign_hs256(kSecret, kClaims)}, std::pair{rs(), sign_rs256(rsa_, kClaims)},
        std::pair{es(), sign_es256(ec_, kClaims)}}) {
    const std::size_t dot = token.rfind('.');
    const std::string sig = token.substr(dot + 1);
    // Another subject under the original signature.
    const std::string forged =
        signing_input(R"({"alg":")" + std::string(algorithm_name(v.algorithm())) + R"("})",
                      R"({"sub":"admin","exp":1893459600})") +
        "." + sig;
    EXPECT_EQ(rejection(v, forged), Rejection::BadSignature);
    // The signature cut short, or one byte longer.
    const std::string raw = *base64url_decode(sig);
    EXPECT_EQ(rejection(v, token.substr(0, dot + 1) + base64url_encode(raw.substr(1))),
              Rejection::BadSignature);
    EXPECT_EQ(rejection(v, token.substr(0, dot + 1) + base64url_encode(raw + "x")),
              Rejection::BadSignature);
    EXPECT_EQ(rejection(v, token.substr(0, dot + 1)), Rejection::BadSignature);  // empty
  }
}

TEST_F(JwtVerifierTest, AudienceIsCheckedAsStringOrArray) {
  const JwtVerifier v = hs({"parley", seconds(30)});
  EXPECT_TRUE(v.verify(sign_hs256(kSecret, claims_with(R"("aud":"parley")")), kNow));
  EXPECT_TRUE(v.verify(sign_hs256(kSecret, claims_with(R"("aud":["x","parley"])")), kNow));
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims_with(R"("aud":"billing")"))),
            Rejection::WrongAudience);
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims_with(R"("aud":["Parley"])"))),
            Rejection::WrongAudience);
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims_with(R"("aud":[])"))),
            Rejection::WrongAudience);
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, kClaims)), Rejection::WrongAudience);  // none
  // Without --jwt-audience, a token issued for some audience is someone else's.
  EXPECT_EQ(rejection(hs(), sign_hs256(kSecret, claims_with(R"("aud":"billing")"))),
            Rejection::WrongAudience);
  // The audience is checked before the time: a stale token for another
  // service is reported as "not for us", not as "refresh me".
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, R"({"sub":"u","exp":1,"aud":"x"})")),
            Rejection::WrongAudience);
}

TEST_F(JwtVerifierTest, MalformedTokens) {
  const JwtVerifier v = hs();
  const std::string good = sign_hs256(kSecret, kClaims);
  const std::string header = good.substr(0, good.find('.'));
  const std::string sig = good.substr(good.rfind('.') + 1);
  const std::string cases[] = {
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      good + ".",
      "." + good.substr(good.find('.')),
      header + "..",                               // empty payload
      "e30*" + good.substr(good.find('.')),        // not base64url
      header + "=" + good.substr(good.find('.')),  // padding
      header.substr(0, header.size() - 1) + " " + good.substr(good.find('.')),
      good.substr(0, good.size() - 1) + "*",  // signature not base64url
      std::string(kMaxTokenBytes + 1, 'a'),
  };
  for (const std::string& token : cases) {
    EXPECT_EQ(rejection(v, token), Rejection::Malformed) << token;
  }
  // Headers that are not what a JOSE header must be.
  for (const char* h :
       {"[]", "\"x\"", "{", "{}", R"({"alg":256})", R"({"alg":null})",
        R"({"alg":"HS256","alg":"HS256"})", R"({"alg":"HS256","crit":["exp"]})", "\xff"}) {
    const std::string input = signing_input(h, kClaims);
    EXPECT_EQ(rejection(v, input + "." + base64url_encode(hmac_sha256(kSecret, input))),
              Rejection::Malformed)
        << h;
  }
  // A payload that is signed but is not JSON, or not base64url.
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, "not json")), Rejection::Malformed);
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, R"({"sub":"u","sub":"v","exp":1893459600})")),
            Rejection::Malformed);
  const std::string input = base64url_encode(R"({"alg":"HS256"})") + ".e30*";
  EXPECT_EQ(rejection(v, input + "." + base64url_encode(hmac_sha256(kSecret, input))),
            Rejection::Malformed);
  (void)sig;
}

TEST_F(JwtVerifierTest, ClaimsMustHaveTheRightShape) {
  const JwtVerifier v = hs();
  for (const char* claims : {
           R"({"exp":1893459600})",                            // no sub
           R"({"sub":"u"})",                                   // no exp
           R"({"sub":"","exp":1893459600})",                   // empty sub
           R"({"sub":7,"exp":1893459600})",                    // sub not a string
           R"({"sub":"a\u0000b","exp":1893459600})",           // control in sub
           R"({"sub":"u","exp":"1893459600"})",                // exp a string
           R"({"sub":"u","exp":1893459600,"nbf":true})",       // nbf not a number
           R"({"sub":"u","exp":1893459600,"name":5})",         // name not a string
           R"({"sub":"u","exp":1893459600,"aud":5})",          // aud not a string
           R"({"sub":"u","exp":1893459600,"rooms":"lobby"})",  // rooms not an array
           R"({"sub":"u","exp":1893459600,"rooms":[1]})",      // not strings
           R"({"sub":"u","exp":1893459600,"rooms":["a*b"]})",  // star inside
           R"({"sub":"u","exp":1893459600,"rooms":[""]})",     // empty pattern
       }) {
    EXPECT_EQ(rejection(v, sign_hs256(kSecret, claims)), Rejection::InvalidClaims) << claims;
  }
  const std::string long_sub = R"({"sub":")" + std::string(257, 'u') + R"(","exp":1893459600})";
  EXPECT_EQ(rejection(v, sign_hs256(kSecret, long_sub)), Rejection::InvalidClaims);
  // Unknown claims, even nested ones, are ignored; a null name is no name.
  Result<Claims> ok = v.verify(
      sign_hs256(kSecret, claims_with(R"("name":null,"realm":{"roles":[["a"]]},"x":[1,2])")), kNow);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(ok->name);
}

TEST_F(JwtVerifierTest, RoomPatterns) {
  const JwtVerifier v = hs();
  auto claims = [&](std::string_view rooms) {
    Result<Claims> c = v.verify(sign_hs256(kSecret, claims_with(rooms)), kNow);
    EXPECT_TRUE(c) << rooms;
    return c ? *c : Claims{};
  };
  const Claims unrestricted = *v.verify(sign_hs256(kSecret, kClaims), kNow);
  EXPECT_TRUE(allows_room(unrestricted, "anything"));
  EXPECT_FALSE(allows_room(claims(R"("rooms":[])"), "lobby"));
  EXPECT_TRUE(allows_room(claims(R"("rooms":["*"])"), "lobby"));
  const Claims team = claims(R"("rooms":["team-*","lobby","我的*"])");
  EXPECT_TRUE(allows_room(team, "team-blue"));
  EXPECT_TRUE(allows_room(team, "team-"));
  EXPECT_FALSE(allows_room(team, "teams"));
  EXPECT_FALSE(allows_room(team, "Team-blue"));  // case-sensitive
  EXPECT_TRUE(allows_room(team, "lobby"));
  EXPECT_FALSE(allows_room(team, "lobby2"));
  EXPECT_FALSE(allows_room(team, "lobb"));
  EXPECT_TRUE(allows_room(team, "我的房间"));
  EXPECT_FALSE(allows_room(team, "你的房间"));
}

TEST(JwtRejectionTest, NamesAreStableAndOnlyAuthErrorsCarryOne) {
  EXPECT_EQ(rejection_name(Rejection::Malformed), "malformed");
  EXPECT_EQ(rejection_name(Rejection::AlgorithmNotAllowed), "algorithm_not_allowed");
  EXPECT_EQ(rejection_name(Rejection::BadSignature), "bad_signature");
  EXPECT_EQ(rejection_name(Rejection::InvalidClaims), "invalid_claims");
  EXPECT_EQ(rejection_name(Rejection::WrongAudience), "wrong_audience");
  EXPECT_EQ(rejection_name(Rejection::Expired), "expired");
  EXPECT_EQ(rejection_name(Rejection::NotYetValid), "not_yet_valid");
  EXPECT_EQ(rejection_of(Error{Errc::Invalid, "x"}), std::nullopt);
  EXPECT_EQ(rejection_of(Error{Errc::Io, "x"}), std::nullopt);
  EXPECT_EQ(rejection_of(reject(Rejection::Expired, "x")), Rejection::Expired);
}

TEST(Base64UrlTest, RoundTripsAndDecodesOnlyCanonicalText) {
  std::string bytes;
  for (int n = 0; n < 12; ++n) {
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << n;
    bytes.push_back(static_cast<char>(0xfb + n));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  for (const char* bad : {"QQ==", "QQ=", "+/8", "Q Q", "Q", "QR", "QUF", "QUJ\n"}) {
    EXPECT_EQ(base64url_decode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(base64url_decode("QUE"), "AA");
}

}  // namespace
}  // namespace parley::auth
