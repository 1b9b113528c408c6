// `?token=` at the upgrade (app/upgrade_auth.h): the query parameter, and
// the decision for plain-text and parley.v1 clients.
#include "app/upgrade_auth.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/jwt_verifier.h"
#include "auth_test_signer.h"

namespace parley::app {
namespace {

constexpr std::string_view kSecret = "a-shared-secret-of-at-least-32-bytes!!";

auth::JwtVerifier verifier() {
  return auth::JwtVerifier(*auth::JwtKey::from_bytes(kSecret), auth::VerifierOptions{});
}

std::string token(const std::string& claims) {
  return auth::testing::sign_hs256(kSecret, claims);
}

const auth::Clock::time_point kNow = auth::Clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(QueryParameter, FindsAndDecodesTheNamedParameter) {
  EXPECT_EQ(query_parameter("/ws/a?token=abc", "token"), "abc");
  EXPECT_EQ(query_parameter("/ws/a?x=1&token=a%2Eb+c&y", "token"), "a.b c");
  EXPECT_EQ(query_parameter("/ws/a?tokens=1&token=", "token"), "");
  EXPECT_EQ(query_parameter("/ws/a?xtoken=1", "token"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws/a", "token"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws/a?token=%G1", "token"), std::nullopt);  // bad encoding
}

TEST(UpgradeToken, WithoutAuthTheParameterIsIgnored) {
  UpgradeAuth out = check_upgrade_token(nullptr, "/ws/a?token=junk", true, "a", kNow);
  EXPECT_TRUE(out.refusal.empty());
  EXPECT_FALSE(out.claims);
}

TEST(UpgradeToken, PlainTextNeedsAValidTokenForItsRoom) {
  auth::JwtVerifier jwt = verifier();
  UpgradeAuth missing = check_upgrade_token(&jwt, "/ws/a", true, "a", kNow);
  EXPECT_TRUE(missing.refusal.starts_with("HTTP/1.1 401 ")) << missing.refusal;
  EXPECT_NE(missing.refusal.find("WWW-Authenticate: Bearer realm=\"parley\"\r\n"),
            std::string::npos);
  std::string expired = token(R"({"sub":"u","exp":1700000000})");
  UpgradeAuth old = check_upgrade_token(&jwt, "/ws/a?token=" + expired, true, "a", kNow);
  EXPECT_NE(old.refusal.find("error_description=\"expired\""), std::string::npos);
  std::string team = token(R"({"sub":"u","exp":1900000000,"rooms":["team-*"]})");
  UpgradeAuth other = check_upgrade_token(&jwt, "/ws/x?token=" + team, true, "x", kNow);
  EXPECT_TRUE(other.refusal.starts_with("HTTP/1.1 403 ")) << other.refusal;
  UpgradeAuth ok = check_upgrade_token(&jwt, "/ws/team-1?token=" + team, true, "team-1", kNow);
  EXPECT_TRUE(ok.refusal.empty());
  ASSERT_TRUE(ok.claims);
  EXPECT_EQ(ok.claims->subject, "u");
}

TEST(UpgradeToken, JsonClientsMayLeaveItToHello) {
  auth::JwtVerifier jwt = verifier();
  UpgradeAuth none = check_upgrade_token(&jwt, "/ws", false, "lobby", kNow);
  EXPECT_TRUE(none.refusal.empty());
  EXPECT_FALSE(none.claims);
  UpgradeAuth bad = check_upgrade_token(&jwt, "/ws?token=x.y.z", false, "lobby", kNow);
  EXPECT_TRUE(bad.refusal.starts_with("HTTP/1.1 401 "));
  // The path's room is not theirs to be refused: they join by message.
  std::string team = token(R"({"sub":"u","exp":1900000000,"rooms":["team-*"]})");
  UpgradeAuth ok = check_upgrade_token(&jwt, "/ws?token=" + team, false, "lobby", kNow);
  EXPECT_TRUE(ok.refusal.empty());
  EXPECT_TRUE(ok.claims);
}

}  // namespace
}  // namespace parley::app
