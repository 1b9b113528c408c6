// IP addresses, CIDR blocks and the per-address limit key (net/ip_address.h).
#include "net/ip_address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace parley::net {
namespace {

IpAddress ip(std::string_view text) {
  Result<IpAddress> a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? *a : IpAddress();
}

Cidr cidr(std::string_view text) {
  Result<Cidr> c = Cidr::parse(text);
  EXPECT_TRUE(c.has_value()) << text;
  return *c;
}

TEST(IpAddress, ParsesBothFamiliesAndFormatsThemBack) {
  EXPECT_EQ(ip("192.0.2.7").to_string(), "192.0.2.7");
  EXPECT_TRUE(ip("192.0.2.7").is_v4());
  EXPECT_EQ(ip("2001:DB8:0:0::1").to_string(), "2001:db8::1");
  EXPECT_FALSE(ip("2001:db8::1").is_v4());
  EXPECT_EQ(ip("[2001:db8::1]"), ip("2001:db8::1"));
}

TEST(IpAddress, AMappedIpv4AddressIsThatIpv4Address) {
  EXPECT_EQ(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
  EXPECT_TRUE(ip("::ffff:192.0.2.7").is_v4());
  EXPECT_EQ(ip("::ffff:192.0.2.7").to_string(), "192.0.2.7");
}

TEST(IpAddress, RefusesAnythingButAnAddress) {
  for (std::string_view bad :
       {"", " 192.0.2.7", "192.0.2.7 ", "192.0.2.7:80", "192.0.2", "256.0.0.1", "example.com",
        "[192.0.2.7]", "2001:db8::1%eth0", "[2001:db8::1]:80", "1.2.3.4.5", "::g", "unknown"}) {
    Result<IpAddress> a = IpAddress::parse(bad);
    EXPECT_FALSE(a.has_value()) << bad;
    if (!a) {
      EXPECT_EQ(a.error().code, Errc::Invalid);
    }
  }
}

TEST(IpAddress, FromSockaddr) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(0x7f000002);
  auto a = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&in), sizeof in);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "127.0.0.2");
  EXPECT_TRUE(a->is_loopback());
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr = in6addr_loopback;
  a = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "::1");
  EXPECT_TRUE(a->is_loopback());
  sockaddr un{};
  un.sa_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::from_sockaddr(&un, sizeof un));
}

TEST(Cidr, MatchesItsBlockOnly) {
  Cidr ten = cidr("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(ip("10.255.1.2")));
  EXPECT_TRUE(ten.contains(ip("::ffff:10.1.1.1")));  // dual-stack sockets report these
  EXPECT_FALSE(ten.contains(ip("11.0.0.0")));
  EXPECT_FALSE(ten.contains(ip("::a00:1")));  // an IPv6 address with the same low bytes
  Cidr odd = cidr("192.168.4.0/22");
  EXPECT_TRUE(odd.contains(ip("192.168.7.255")));
  EXPECT_FALSE(odd.contains(ip("192.168.8.0")));
  EXPECT_FALSE(odd.contains(ip("192.168.3.255")));
  Cidr v6 = cidr("2001:db8::/32");
  EXPECT_TRUE(v6.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.contains(ip("2001:db9::1")));
  EXPECT_FALSE(v6.contains(ip("32.1.13.184")));
}

TEST(Cidr, OneAddressIsItsOwnBlock) {
  EXPECT_TRUE(cidr("127.0.0.1").contains(ip("127.0.0.1")));
  EXPECT_FALSE(cidr("127.0.0.1").contains(ip("127.0.0.2")));
  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_EQ(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
  EXPECT_EQ(cidr("::1").to_string(), "::1/128");
}

TEST(Cidr, ZeroPrefixMatchesTheWholeFamily) {
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(cidr("::/0").contains(ip("2001:db8::1")));
}

TEST(Cidr, RefusesMalformedBlocks) {
  for (std::string_view bad : {"10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/x",
                               "/8", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/ 8", "host/8"}) {
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
  }
}

TEST(AddressKey, Ipv4IsCountedPerAddressIpv6PerSlash64) {
  EXPECT_NE(limit_key(ip("192.0.2.7")), limit_key(ip("192.0.2.8")));
  EXPECT_EQ(limit_key(ip("2001:db8:1:2:aaaa::1")), limit_key(ip("2001:db8:1:2:bbbb::2")));
  EXPECT_NE(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
  EXPECT_EQ(limit_key(ip("2001:db8:1:2:aaaa::1")).to_string(), "2001:db8:1:2::/64");
  EXPECT_EQ(limit_key(ip("192.0.2.7")).to_string(), "192.0.2.7");
  AddressKeyHash hash;
  EXPECT_EQ(hash(limit_key(ip("192.0.2.7"))), hash(limit_key(ip("::ffff:192.0.2.7"))));
}

}  // namespace
}  // namespace parley::net
