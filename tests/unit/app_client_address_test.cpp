// Whom a connection is from behind trusted proxies (app/client_address.h).
#include "app/client_address.h"

#include <gtest/gtest.h>

#include <vector>

namespace parley::app {
namespace {

net::IpAddress ip(std::string_view text) {
  return *net::IpAddress::parse(text);
}

http::Request with(std::vector<http::Header> headers) {
  http::Request r;
  r.method = "GET";
  r.target = "/ws";
  r.headers = std::move(headers);
  return r;
}

const std::vector<net::Cidr> kTrusted = {*net::Cidr::parse("127.0.0.1"),
                                         *net::Cidr::parse("10.0.0.0/8")};

std::string client(std::string_view peer, std::vector<http::Header> headers) {
  return client_address(ip(peer), with(std::move(headers)), kTrusted).to_string();
}

TEST(ClientAddress, HeadersFromAnUntrustedPeerAreIgnored) {
  EXPECT_EQ(client("203.0.113.9", {{"X-Forwarded-For", "198.51.100.1"}}), "203.0.113.9");
  EXPECT_EQ(client("203.0.113.9", {{"X-Real-IP", "198.51.100.1"}}), "203.0.113.9");
}

TEST(ClientAddress, ATrustedProxyNamesTheClient) {
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "198.51.100.1"}}), "198.51.100.1");
  EXPECT_EQ(client("127.0.0.1", {{"X-Real-IP", "198.51.100.1"}}), "198.51.100.1");
  EXPECT_EQ(client("127.0.0.1", {}), "127.0.0.1");  // no header: the proxy itself
}

TEST(ClientAddress, TheRightmostUntrustedHopIsTheClient) {
  // The client wrote "1.1.1.1" itself; nginx appended the address it saw.
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "1.1.1.1, 198.51.100.1"}}), "198.51.100.1");
  // Two trusted proxies in a row.
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "1.1.1.1, 198.51.100.1, 10.1.2.3"}}),
            "198.51.100.1");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "10.9.9.9, 10.1.2.3"}}), "10.9.9.9");
  // Header lines are one list, in order.
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-For", "10.1.2.3"}}),
            "1.1.1.1");
}

TEST(ClientAddress, XForwardedForWinsOverXRealIp) {
  EXPECT_EQ(client("127.0.0.1", {{"X-Real-IP", "192.0.2.1"}, {"X-Forwarded-For", "198.51.100.1"}}),
            "198.51.100.1");
}

TEST(ClientAddress, HopsMayCarryPortsAndBrackets) {
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "198.51.100.1:5555"}}), "198.51.100.1");
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "[2001:db8::1]:5555"}}), "2001:db8::1");
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "2001:db8::1"}}), "2001:db8::1");
}

TEST(ClientAddress, AHopThatIsNoAddressStopsAtTheLastTrustedOne) {
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "unknown"}}), "127.0.0.1");
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", "198.51.100.1, garbage, 10.1.2.3"}}),
            "10.1.2.3");
  EXPECT_EQ(client("127.0.0.1", {{"X-Real-IP", "nonsense"}}), "127.0.0.1");
  EXPECT_EQ(client("127.0.0.1", {{"X-Forwarded-For", ""}}), "127.0.0.1");
}

}  // namespace
}  // namespace parley::app
