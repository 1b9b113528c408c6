#include "app/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace parley::app {
namespace {

constexpr std::size_t kMinKeyBytes = 16;
constexpr std::size_t kMaxKeyBytes = 256;
constexpr std::size_t kMaxNameBytes = 32;

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

bool is_visible(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool is_valid_key_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameBytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

std::string derived_name(const std::array<unsigned char, 32>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "key-";
  for (int i = 0; i < 4; ++i) {
    name += kHex[digest[i] >> 4];
    name += kHex[digest[i] & 0xf];
  }
  return name;
}

// The fields of a line split on spaces and tabs.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < line.size()) {
    at = line.find_first_not_of(" \t", at);
    if (at == std::string_view::npos) break;
    std::size_t end = line.find_first_of(" \t", at);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(at, end - at));
    at = end;
  }
  return out;
}

}  // namespace

Result<ApiKeys> ApiKeys::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::Io, "cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  Result<ApiKeys> keys = parse(text.str());
  if (!keys) return Error(keys.error().code, "'" + path + "': " + keys.error().message);
  return keys;
}

Result<ApiKeys> ApiKeys::parse(std::string_view text) {
  ApiKeys keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string_view> f = fields(line);
    if (f.empty() || f[0].starts_with('#')) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (f.size() > 2) return Error(Errc::Invalid, where + "expected `KEY` or `NAME KEY`");
    std::string_view key = f.back();
    if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes || !is_visible(key)) {
      return Error(Errc::Invalid, where + "a key is 16-256 visible ASCII characters");
    }
    Key k{std::string(f.size() == 2 ? f[0] : std::string_view{}), sha256(key)};
    if (f.size() == 2 && !is_valid_key_name(k.name)) {
      return Error(Errc::Invalid, where + "a key name is 1-32 of A-Z a-z 0-9 . _ -");
    }
    if (k.name.empty()) k.name = derived_name(k.digest);
    for (const Key& other : keys.keys_) {
      if (other.name == k.name) return Error(Errc::Invalid, where + "key name used twice");
      if (other.digest == k.digest) return Error(Errc::Invalid, where + "key listed twice");
    }
    keys.keys_.push_back(std::move(k));
  }
  if (keys.keys_.empty()) return Error(Errc::Invalid, "no key in the file");
  return keys;
}

std::optional<std::string> ApiKeys::match(std::string_view presented) const {
  const std::array<unsigned char, 32> digest = sha256(presented);
  const Key* found = nullptr;
  for (const Key& k : keys_) {
    // Every key is compared: no early exit.
    bool same = CRYPTO_memcmp(k.digest.data(), digest.data(), digest.size()) == 0;
    if (same) found = &k;
  }
  if (found == nullptr) return std::nullopt;
  return found->name;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  std::size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  rest = rest.substr(start);
  if (!is_visible(rest)) return std::nullopt;
  return rest;
}

}  // namespace parley::app
