// Loading --jwt-key files: which keys are accepted, which algorithm each
// pins, and the one-line errors for the ones refused. Also checks that tokens
// signed by an independent implementation (PyJWT, fixtures/jwt/) verify.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "auth/jwt_key.h"
#include "auth/jwt_verifier.h"
#include "auth_test_signer.h"

namespace parley::auth {
namespace {

const std::string kFixtures = std::string(PARLEY_UNIT_FIXTURES) + "/jwt/";
// The fixture tokens were issued for this instant (see make-fixtures.sh).
const Clock::time_point kFixtureNow = Clock::time_point(std::chrono::seconds(1893456000));

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string key_error(std::string_view bytes) {
  Result<JwtKey> key = JwtKey::from_bytes(bytes);
  EXPECT_FALSE(key) << "accepted: " << bytes;
  if (key) return {};
  EXPECT_EQ(key.error().code, Errc::Invalid);
  EXPECT_EQ(key.error().message.find('\n'), std::string::npos) << "one line";
  return key.error().message;
}

TEST(JwtKeyTest, TheKeyFilePinsTheAlgorithm) {
  const std::pair<const char*, Algorithm> cases[] = {
      {"hs256.secret", Algorithm::HS256},    {"rs256.pub.pem", Algorithm::RS256},
      {"rs256.pkcs1.pem", Algorithm::RS256}, {"rs256.cert.pem", Algorithm::RS256},
      {"es256.pub.pem", Algorithm::ES256},
  };
  for (const auto& [file, algorithm] : cases) {
    Result<JwtKey> key = JwtKey::from_file(kFixtures + file);
    ASSERT_TRUE(key) << file << ": " << key.error().message;
    EXPECT_EQ(key->algorithm(), algorithm) << file;
  }
}

TEST(JwtKeyTest, RefusesWeakOrUnsupportedKeysWithAPreciseReason) {
  EXPECT_NE(key_error(read(kFixtures + "rsa1024.pub.pem")).find("1024 bits"), std::string::npos);
  EXPECT_NE(key_error(read(kFixtures + "p384.pub.pem")).find("secp384r1"), std::string::npos);
  EXPECT_NE(key_error(read(kFixtures + "ed25519.pub.pem")).find("ED25519"), std::string::npos);
  const testing::PkeyPtr ec = testing::generate_ec();
  EXPECT_NE(key_error(testing::pem_of(ec.get(), /*private_key=*/true)).find("private key"),
            std::string::npos);
  EXPECT_NE(
      key_error("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").find("cannot read"),
      std::string::npos);
  EXPECT_NE(key_error("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n").find("not a public key"),
            std::string::npos);
}

TEST(JwtKeyTest, SecretsNeedThirtyTwoBytesAfterOneNewline) {
  EXPECT_NE(key_error("short secret\n").find("at least 32"), std::string::npos);
  EXPECT_NE(key_error(std::string(31, 'x') + "\r\n").find("31 bytes"), std::string::npos);
  Result<JwtKey> key = JwtKey::from_bytes(std::string(32, 'x') + "\n");
  ASSERT_TRUE(key);
  // The newline is not part of the secret: a token signed with the 32 bytes verifies.
  JwtVerifier verifier(*std::move(key), {});
  const std::string token =
      testing::sign_hs256(std::string(32, 'x'), R"({"sub":"a","exp":1893459600})");
  EXPECT_TRUE(verifier.verify(token, kFixtureNow));
}

TEST(JwtKeyTest, FileErrorsNameTheFile) {
  Result<JwtKey> missing = JwtKey::from_file("/nonexistent/key.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::Io);
  EXPECT_NE(missing.error().message.find("/nonexistent/key.pem"), std::string::npos);

  const std::string empty = ::testing::TempDir() + "/parley-empty-key";
  std::ofstream(empty).close();
  Result<JwtKey> none = JwtKey::from_file(empty);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, empty + ": empty");
  std::filesystem::remove(empty);
}

TEST(JwtKeyTest, TokensSignedByPyJwtVerify) {
  for (const char* alg : {"hs256", "rs256", "es256"}) {
    const std::string key_file = std::string(alg) == "hs256"   ? "hs256.secret"
                                 : std::string(alg) == "rs256" ? "rs256.cert.pem"
                                                               : "es256.pub.pem";
    Result<JwtKey> key = JwtKey::from_file(kFixtures + key_file);
    ASSERT_TRUE(key) << key.error().message;
    JwtVerifier verifier(*std::move(key), {"parley", std::chrono::seconds(0)});
    const std::string token = read(kFixtures + "pyjwt-" + alg + ".jwt");
    Result<Claims> claims = verifier.verify(token, kFixtureNow);
    ASSERT_TRUE(claims) << alg << ": " << claims.error().message;
    EXPECT_EQ(claims->subject, "user-42");
    EXPECT_EQ(claims->name, "Zo\xc3\xab");  // sent as "Zo\u00eb"
    EXPECT_EQ(claims->expires_at, Clock::time_point(std::chrono::seconds(1893459600)));
    EXPECT_TRUE(allows_room(*claims, "team-blue"));
    EXPECT_FALSE(allows_room(*claims, "random"));
    // One hour later the same token has expired.
    Result<Claims> late = verifier.verify(token, kFixtureNow + std::chrono::hours(1));
    ASSERT_FALSE(late);
    EXPECT_EQ(rejection_of(late.error()), Rejection::Expired);
  }
}

}  // namespace
}  // namespace parley::auth
