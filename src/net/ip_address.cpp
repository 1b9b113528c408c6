#include "net/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <random>

namespace parley::net {
namespace {

constexpr std::size_t kMappedPrefix = 12;  // ::ffff: is the first 12 bytes

bool is_mapped(const IpAddress::Bytes& b) {
  for (std::size_t i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

IpAddress::Bytes mapped(const uint8_t* v4) {
  IpAddress::Bytes b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + kMappedPrefix, v4, 4);
  return b;
}

Error invalid(std::string_view what, std::string_view text) {
  return Error(Errc::Invalid, std::string(what) + " '" + std::string(text) + "'");
}

// Whether every bit of `b` from bit `bits` on is zero.
bool host_bits_zero(const IpAddress::Bytes& b, unsigned bits) {
  for (unsigned i = bits; i < 128; ++i) {
    if ((b[i / 8] >> (7 - i % 8)) & 1) return false;
  }
  return true;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
    if (text.find(':') == std::string_view::npos) return invalid("not an IPv6 address", text);
  }
  // inet_pton wants a NUL-terminated string; INET6_ADDRSTRLEN bounds both forms.
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return invalid("not an IP address", text);
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, raw) != 1) return invalid("not an IP address", text);
    return IpAddress(mapped(raw));
  }
  if (inet_pton(AF_INET6, buf, raw) != 1) return invalid("not an IP address", text);
  Bytes b;
  std::memcpy(b.data(), raw, 16);
  return IpAddress(b);
}

Result<IpAddress> IpAddress::from_sockaddr(const sockaddr* addr, socklen_t len) {
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return IpAddress(mapped(reinterpret_cast<const uint8_t*>(&in->sin_addr)));
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    Bytes b;
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    return IpAddress(b);
  }
  return Error(Errc::Invalid,
               "not an IP socket address (family " + std::to_string(addr->sa_family) + ")");
}

IpAddress IpAddress::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t raw[4] = {a, b, c, d};
  return IpAddress(mapped(raw));
}

bool IpAddress::is_v4() const {
  return is_mapped(bytes_);
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[kMappedPrefix] == 127;
  static constexpr Bytes kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopback6;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, bytes_.data() + kMappedPrefix, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  }
  return buf;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  std::string_view address_text = text;
  std::optional<unsigned> prefix;
  if (std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return invalid("not a CIDR block", text);
    }
    prefix = n;
  }
  Result<IpAddress> address = IpAddress::parse(address_text);
  if (!address) return invalid("not a CIDR block", text);
  Cidr c;
  c.v4_ = address->is_v4();
  unsigned family_bits = c.v4_ ? 32 : 128;
  unsigned n = prefix.value_or(family_bits);
  if (n > family_bits) return invalid("prefix too long in", text);
  c.bits_ = c.v4_ ? 96 + n : n;
  if (!host_bits_zero(address->bytes(), c.bits_)) {
    return invalid("host bits set below the prefix in", text);
  }
  c.base_ = *address;
  return c;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.is_v4() != v4_) return false;
  const auto& a = address.bytes();
  const auto& b = base_.bytes();
  unsigned whole = bits_ / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  unsigned rest = bits_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::string Cidr::to_string() const {
  return base_.to_string() + "/" + std::to_string(v4_ ? bits_ - 96 : bits_);
}

AddressKey limit_key(const IpAddress& address) {
  AddressKey key{address.bytes()};
  if (!address.is_v4()) std::fill(key.bytes.begin() + 8, key.bytes.end(), 0);
  return key;
}

std::string AddressKey::to_string() const {
  IpAddress address(bytes);
  return address.is_v4() ? address.to_string() : address.to_string() + "/64";
}

std::size_t AddressKeyHash::operator()(const AddressKey& key) const {
  // Keyed with a seed drawn at start: an attacker holding a /48 chooses 2^16
  // keys, and must not be able to choose ones that share a hash bucket.
  static const uint64_t seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  auto mix = [](uint64_t x) {  // splitmix64's finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  uint64_t lo = 0, hi = 0;
  std::memcpy(&lo, key.bytes.data(), 8);
  std::memcpy(&hi, key.bytes.data() + 8, 8);
  return static_cast<std::size_t>(mix(mix(seed ^ lo) ^ hi));
}

}  // namespace parley::net
