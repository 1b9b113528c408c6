// IP addresses and CIDR blocks, for the limits kept per client address and
// the list of trusted proxies (docs/SECURITY.md, "Connection caps" and
// "Trusted proxies"). Pure values: parsing, formatting, matching.
//
// One representation for both families: 16 bytes, an IPv4 address stored as
// IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2). So a client that a
// dual-stack socket reports as ::ffff:192.0.2.7 is the same client, in the
// same CIDR blocks, as 192.0.2.7.
#pragma once

#include <sys/socket.h>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::net {

class IpAddress {
 public:
  using Bytes = std::array<uint8_t, 16>;

  IpAddress() = default;  // ::, the unspecified address
  explicit IpAddress(const Bytes& bytes) : bytes_(bytes) {}

  // "192.0.2.7", "2001:db8::1", "[2001:db8::1]" (as in a URL or a
  // forwarding header), "::ffff:192.0.2.7" (taken as IPv4). Nothing else:
  // no port, no zone, no surrounding space. Errc::Invalid otherwise.
  static Result<IpAddress> parse(std::string_view text);
  // A socket address (accept, getpeername); Errc::Invalid when it is not
  // AF_INET or AF_INET6.
  static Result<IpAddress> from_sockaddr(const sockaddr* addr, socklen_t len);
  static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

  bool is_v4() const;
  bool is_loopback() const;
  const Bytes& bytes() const { return bytes_; }
  // "192.0.2.7" or "2001:db8::1" (RFC 5952).
  std::string to_string() const;

  bool operator==(const IpAddress&) const = default;

 private:
  Bytes bytes_{};
};

// A block of addresses: "10.0.0.0/8", "2001:db8::/32", or one address
// ("127.0.0.1" is 127.0.0.1/32, "::1" is ::1/128). An IPv4 block matches
// IPv4 addresses (mapped ones included) only.
class Cidr {
 public:
  // Errc::Invalid for anything else, or a prefix longer than the family's
  // (32, 128). Host bits set below the prefix are refused too ("10.0.0.1/8"
  // is more likely a typo than a wish).
  static Result<Cidr> parse(std::string_view text);

  bool contains(const IpAddress& address) const;
  std::string to_string() const;

 private:
  IpAddress base_;
  unsigned bits_ = 0;  // prefix length in the 128-bit space (IPv4: 96 + n)
  bool v4_ = false;
};

// The key under which limits per client address are counted: an IPv4
// address itself, an IPv6 address's /64. One IPv6 host usually holds a
// whole /64 (SLAAC, privacy addresses), so counting /128s would let it open
// 2^64 "addresses"; a /64 is what an ISP hands a single subscriber line.
struct AddressKey {
  IpAddress::Bytes bytes{};
  bool operator==(const AddressKey&) const = default;
  // "192.0.2.7" or "2001:db8:1:2::/64", for logs.
  std::string to_string() const;
};

AddressKey limit_key(const IpAddress& address);

struct AddressKeyHash {
  std::size_t operator()(const AddressKey& key) const;
};

}  // namespace parley::net
