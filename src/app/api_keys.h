// The backend API's keys (docs/API.md, "Keys"): loaded at start from
// --api-key-file, one key per line, and checked in constant time.
//
// File format: one key per line, `KEY` or `NAME KEY`; blank lines and lines
// starting with `#` are skipped. A key is 16-256 visible ASCII characters
// (no spaces); a name 1-32 of [A-Za-z0-9._-]. A key without a name is named
// `key-` and the first 8 hex digits of its SHA-256, so the name (which the
// API's messages carry as their user, `api:<name>`) stays the same across
// restarts and never shows the key.
//
// Only the SHA-256 of each key is kept. A presented key is hashed and its
// digest compared with every key's by CRYPTO_memcmp, all of them every time:
// the time taken tells neither how much of a key matched nor which one did.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace parley::app {

class ApiKeys {
 public:
  static Result<ApiKeys> load(const std::string& path);
  static Result<ApiKeys> parse(std::string_view text);

  // The name of the key `presented` is, if it is one.
  std::optional<std::string> match(std::string_view presented) const;
  std::size_t size() const { return keys_.size(); }

 private:
  struct Key {
    std::string name;
    std::array<unsigned char, 32> digest;
  };
  std::vector<Key> keys_;
};

// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the
// scheme is case-insensitive), or nullopt for any other value.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace parley::app
