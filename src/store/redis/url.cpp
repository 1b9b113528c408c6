#include "store/redis/url.h"

#include <charconv>

namespace parley::redis {
namespace {

// The URL as an error may show it: without its user and password.
std::string redacted(std::string_view url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  return std::string(url.substr(0, scheme + 3)) + "***" + std::string(url.substr(at));
}

Error invalid(std::string_view url, std::string_view why) {
  return Error{Errc::Invalid, "--redis '" + redacted(url) + "': " + std::string(why)};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding; false on a bad escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int hi = i + 1 < in.size() ? hex_digit(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_digit(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

Result<int> parse_db(std::string_view url, std::string_view s) {
  int db = 0;
  if (!parse_number(s, db) || db < 0 || db > 1000000) {
    return invalid(url, "the database must be a number (redis://host:port/0)");
  }
  return db;
}

Status parse_credentials(std::string_view url, std::string_view creds, Endpoint& e) {
  auto colon = creds.find(':');
  std::string_view user =
      colon == std::string_view::npos ? std::string_view{} : creds.substr(0, colon);
  std::string_view password = colon == std::string_view::npos ? creds : creds.substr(colon + 1);
  if (!percent_decode(user, e.user) || !percent_decode(password, e.password)) {
    return invalid(url, "a bad %-escape in the user or password");
  }
  return {};
}

Status parse_host_port(std::string_view url, std::string_view hostport, Endpoint& e) {
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:6379
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return invalid(url, "an unclosed '[' in the host");
    host = hostport.substr(1, close - 1);
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid(url, "junk after the host");
      port = rest.substr(1);
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty()) return invalid(url, "no host");
  e.host = std::string(host);
  if (!port.empty() && (!parse_number(port, e.port) || e.port == 0)) {
    return invalid(url, "the port must be 1-65535");
  }
  return {};
}

Result<Endpoint> parse_unix(std::string_view url, std::string_view rest) {
  Endpoint e;
  std::string_view path = rest;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    std::string_view query = rest.substr(q + 1);
    if (query.substr(0, 3) != "db=") return invalid(url, "the only query parameter is db=N");
    Result<int> db = parse_db(url, query.substr(3));
    if (!db) return std::move(db).error();
    e.db = *db;
  }
  if (path.empty() || path.front() != '/')
    return invalid(url, "a Unix socket needs an absolute path");
  e.unix_path = std::string(path);
  return e;
}

}  // namespace

std::string Endpoint::describe() const {
  std::string where = unix_path.empty() ? host + ":" + std::to_string(port) : unix_path;
  return where + " db " + std::to_string(db);
}

Result<Endpoint> parse_url(std::string_view url) {
  constexpr std::string_view kRedis = "redis://", kTls = "rediss://", kUnix = "unix://";
  if (url.substr(0, kTls.size()) == kTls) {
    return invalid(url,
                   "rediss:// (TLS) is not supported: Debian's hiredis 0.14 has no TLS. Reach "
                   "Redis over a private network, a Unix socket or a TLS tunnel (stunnel, "
                   "spiped) and use redis://");
  }
  if (url.substr(0, kUnix.size()) == kUnix) return parse_unix(url, url.substr(kUnix.size()));
  if (url.substr(0, kRedis.size()) != kRedis) {
    return invalid(url, "expected redis://[[user]:password@]host[:port][/db]");
  }
  std::string_view rest = url.substr(kRedis.size());
  Endpoint e;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      Result<int> n = parse_db(url, db);
      if (!n) return std::move(n).error();
      e.db = *n;
    }
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    if (Status s = parse_credentials(url, rest.substr(0, at), e); !s) return s.error();
    rest = rest.substr(at + 1);
  }
  if (Status s = parse_host_port(url, rest, e); !s) return s.error();
  return e;
}

}  // namespace parley::redis
