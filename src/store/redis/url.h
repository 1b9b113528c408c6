// Where Redis is: `redis://[[user]:password@]host[:port][/db]`, or
// `unix:///path/to/redis.sock[?db=N]` (RFC 3986 percent-escapes allowed in
// the user and password). `rediss://` (TLS) is refused with a clear error:
// Debian's hiredis 0.14 has no TLS support.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string unix_path;  // set: a Unix socket instead of host:port
  std::string user;       // ACL user (Redis 6+); empty: the default user
  std::string password;   // empty: no AUTH
  int db = 0;

  // For logs: never the password.
  std::string describe() const;
};

Result<Endpoint> parse_url(std::string_view url);

}  // namespace parley::redis
