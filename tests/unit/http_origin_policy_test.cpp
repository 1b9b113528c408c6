// Which pages may open a WebSocket (http/origin_policy.h).
#include "http/origin_policy.h"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

using std::nullopt;

OriginPolicy policy(std::string_view list) {
  Result<OriginPolicy> p = OriginPolicy::parse(list);
  EXPECT_TRUE(p.has_value()) << list;
  return p ? *p : OriginPolicy();
}

TEST(OriginPolicy, ParsesOriginsWithTheirDefaultPorts) {
  auto o = parse_origin("HTTPS://Chat.Example.com");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->to_string(), "https://chat.example.com:443");
  EXPECT_EQ(parse_origin("http://127.0.0.1:8000")->to_string(), "http://127.0.0.1:8000");
  EXPECT_EQ(parse_origin("http://[::1]:8000")->to_string(), "http://[::1]:8000");
  EXPECT_EQ(parse_origin("chrome-extension://abcdef")->port, 0);
  for (std::string_view bad :
       {"null", "", "example.com", "http://", "http://a/", "http://a:b", "http://a:70000", "://a",
        "1http://a", "http://a b", "http://[::1", "http://user@a", "http://a:80/path"}) {
    EXPECT_FALSE(parse_origin(bad).has_value()) << bad;
  }
}

TEST(OriginPolicy, ClientsWithoutOriginAreAllowed) {
  EXPECT_TRUE(OriginPolicy().allows(nullopt, "127.0.0.1:8080"));
  EXPECT_TRUE(OriginPolicy().allows(nullopt, nullopt));
}

TEST(OriginPolicy, OurOwnHostIsAllowedByDefault) {
  OriginPolicy p;
  EXPECT_TRUE(p.allows("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(p.allows("http://Chat.Example.com", "chat.example.com:80"));
  // The scheme is not compared: TLS may end at a proxy in front of us.
  EXPECT_TRUE(p.allows("https://chat.example.com", "chat.example.com:443"));
  // A proxy sending `Host $host` drops the port the browser's Origin keeps.
  EXPECT_TRUE(p.allows("https://chat.example.com:8443", "chat.example.com"));
  EXPECT_TRUE(p.allows("http://[::1]:8080", "[::1]:8080"));
}

TEST(OriginPolicy, OtherPagesAreRefusedByDefault) {
  OriginPolicy p;
  EXPECT_FALSE(p.allows("https://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(p.allows("http://127.0.0.1:8000", "127.0.0.1:8080"));  // another port
  EXPECT_FALSE(p.allows("https://chat.example.com", "chat.example.com:8080"));
  EXPECT_FALSE(p.allows("http://chat.example.com.evil.example", "chat.example.com"));
  EXPECT_FALSE(p.allows("null", "127.0.0.1:8080"));          // a file, a sandboxed frame
  EXPECT_FALSE(p.allows("http://127.0.0.1:8080", nullopt));  // no Host to compare with
  EXPECT_FALSE(p.allows("garbage", "127.0.0.1:8080"));
}

TEST(OriginPolicy, TheListAddsExactOrigins) {
  OriginPolicy p = policy("null, http://example:8000,HTTPS://Other.example");
  EXPECT_TRUE(p.allows("null", "127.0.0.1:8080"));
  EXPECT_TRUE(p.allows("http://example:8000", "127.0.0.1:8080"));
  EXPECT_TRUE(p.allows("https://other.example:443", "127.0.0.1:8080"));
  EXPECT_FALSE(p.allows("https://example:8000", "127.0.0.1:8080"));  // the scheme counts here
  EXPECT_FALSE(p.allows("http://example:8001", "127.0.0.1:8080"));
  EXPECT_FALSE(p.allows("https://evil.example", "127.0.0.1:8080"));
  EXPECT_TRUE(p.allows("http://127.0.0.1:8080", "127.0.0.1:8080"));  // still our own host
}

TEST(OriginPolicy, StarAllowsEveryPage) {
  OriginPolicy p = policy("*");
  EXPECT_TRUE(p.allows_any());
  EXPECT_TRUE(p.allows("https://evil.example", "127.0.0.1:8080"));
  EXPECT_TRUE(p.allows("null", nullopt));
}

TEST(OriginPolicy, RefusesAListEntryThatIsNoOrigin) {
  for (std::string_view bad : {"example.com", "http://a/path", "*.example.com", "http://a,ftp:x"}) {
    Result<OriginPolicy> p = OriginPolicy::parse(bad);
    EXPECT_FALSE(p.has_value()) << bad;
    if (!p) {
      EXPECT_EQ(p.error().code, Errc::Invalid);
    }
  }
  EXPECT_TRUE(OriginPolicy::parse("").has_value());
  EXPECT_TRUE(OriginPolicy::parse(" , ").has_value());
}

}  // namespace
}  // namespace parley::http
