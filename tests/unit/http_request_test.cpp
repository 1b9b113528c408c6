// Request accessors and the token helpers the WebSocket handshake relies on.
#include "http/request.h"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

Request request_with(std::string target, std::vector<Header> headers, int minor = 1) {
  Request r;
  r.method = "GET";
  r.target = std::move(target);
  r.version_minor = minor;
  r.headers = std::move(headers);
  return r;
}

TEST(HttpRequest, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "Hos"));
  EXPECT_FALSE(iequals("Host", "Hosu"));
  EXPECT_FALSE(iequals("a[", "A{"));  // '[' and '{' differ by 32 but are not letters
  EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));
}

TEST(HttpRequest, ListHasTokenSplitsOnCommasAndIgnoresOws) {
  EXPECT_TRUE(list_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(list_has_token("Upgrade", "upgrade"));
  EXPECT_TRUE(list_has_token(" ,\tupgrade\t, ", "Upgrade"));
  EXPECT_FALSE(list_has_token("keep-alive", "upgrade"));
  EXPECT_FALSE(list_has_token("upgrade-insecure", "upgrade"));
  EXPECT_FALSE(list_has_token("", "upgrade"));
  EXPECT_FALSE(list_has_token("up grade", "upgrade"));
}

TEST(HttpRequest, HeaderReturnsFirstMatchCaseInsensitively) {
  const Request r = request_with("/", {{"X-A", "1"}, {"x-a", "2"}});
  EXPECT_EQ(r.header("x-A"), "1");
  EXPECT_FALSE(r.header("X-B").has_value());
}

TEST(HttpRequest, HeaderListJoinsAllLines) {
  const Request r =
      request_with("/", {{"Connection", "keep-alive"}, {"X", "y"}, {"connection", "Upgrade"}});
  EXPECT_EQ(r.header_list("CONNECTION"), "keep-alive, Upgrade");
  EXPECT_FALSE(r.header_list("Upgrade").has_value());
  EXPECT_EQ(request_with("/", {{"A", ""}}).header_list("a"), "");
}

TEST(HttpRequest, PathDropsTheQuery) {
  EXPECT_EQ(request_with("/a/b?c=d?e", {}).path(), "/a/b");
  EXPECT_EQ(request_with("/?x", {}).path(), "/");
  EXPECT_EQ(request_with("/plain", {}).path(), "/plain");
  EXPECT_EQ(request_with("*", {}).path(), "*");
}

TEST(HttpRequest, PathOfAbsoluteFormSkipsSchemeAndAuthority) {
  EXPECT_EQ(request_with("http://example.com/a/b?c", {}).path(), "/a/b");
  EXPECT_EQ(request_with("https://example.com", {}).path(), "/");
  EXPECT_EQ(request_with("http://example.com?q=1", {}).path(), "/");
  EXPECT_EQ(request_with("http://example.com:80/x", {}).path(), "/x");
}

TEST(HttpRequest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_TRUE(request_with("/", {}).keep_alive());
  EXPECT_FALSE(request_with("/", {{"Connection", "Close"}}).keep_alive());
  EXPECT_FALSE(
      request_with("/", {{"Connection", "Upgrade"}, {"Connection", "close"}}).keep_alive());
  EXPECT_FALSE(request_with("/", {}, 0).keep_alive());
  EXPECT_TRUE(request_with("/", {{"Connection", "Keep-Alive"}}, 0).keep_alive());
}

}  // namespace
}  // namespace parley::http
