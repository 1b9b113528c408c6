// The identity flags of parse_config: --auth, --jwt-*, --resume-ttl. A bad
// key file stops the server at start with one precise line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/config.h"
#include "auth/jwt_verifier.h"

namespace parley::app {
namespace {

const std::string kFixtures = std::string(PARLEY_UNIT_FIXTURES) + "/jwt/";

ConfigResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "parley");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

TEST(AuthConfigTest, DefaultsToGuestsAndSevenDayResumeTokens) {
  ConfigResult r = parse({});
  ASSERT_TRUE(r.config) << r.output;
  EXPECT_EQ(r.config->auth, "none");
  EXPECT_EQ(r.config->jwt, nullptr);
  EXPECT_EQ(r.config->resume_ttl, 7u * 24 * 3600);
}

TEST(AuthConfigTest, JwtLoadsTheKeyAtStart) {
  ConfigResult r = parse({"--auth", "jwt", "--jwt-key", kFixtures + "es256.pub.pem",
                          "--jwt-audience", "parley", "--jwt-leeway", "5"});
  ASSERT_TRUE(r.config) << r.output;
  ASSERT_NE(r.config->jwt, nullptr);
  EXPECT_EQ(r.config->jwt->algorithm(), auth::Algorithm::ES256);
  EXPECT_EQ(r.config->jwt->options().audience, "parley");
  EXPECT_EQ(r.config->jwt->options().leeway, std::chrono::seconds(5));
}

TEST(AuthConfigTest, BadKeysAndMissingFlagsFailWithOneLine) {
  const std::string weak = kFixtures + "rsa1024.pub.pem";
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--auth", "jwt"}, "parley: --auth jwt needs --jwt-key FILE\n"},
      {{"--auth", "jwt", "--jwt-key", weak},
       "parley: --jwt-key " + weak + ": RSA key of 1024 bits; RS256 needs at least 2048\n"},
      {{"--auth", "jwt", "--jwt-key", "/nonexistent/k.pem"},
       "parley: --jwt-key /nonexistent/k.pem: cannot open: No such file or directory\n"},
      {{"--jwt-key", kFixtures + "hs256.secret"},
       "parley: --jwt-key and --jwt-audience need --auth jwt\n"},
  };
  for (const auto& [args, output] : cases) {
    ConfigResult r = parse(args);
    EXPECT_FALSE(r.config);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.output, output);
  }
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--auth", "oauth"},
                                             {"--jwt-leeway", "301"},
                                             {"--resume-ttl", "59"},
                                             {"--resume-ttl", "7w"}}) {
    ConfigResult r = parse(args);
    EXPECT_FALSE(r.config) << args[0] << " " << args[1];
    EXPECT_EQ(r.exit_code, 2);
  }
}

TEST(AuthConfigTest, ResumeTtlTakesUnits) {
  EXPECT_EQ(parse({"--resume-ttl", "90m"}).config->resume_ttl, 5400u);
  EXPECT_EQ(parse({"--resume-ttl", "12h"}).config->resume_ttl, 43200u);
  EXPECT_EQ(parse({"--resume-ttl", "30d"}).config->resume_ttl, 30u * 86400);
  EXPECT_EQ(parse({"--resume-ttl", "3600"}).config->resume_ttl, 3600u);
}

}  // namespace
}  // namespace parley::app
