#include "chat/identity.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace parley::chat {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMacBytes = 16;  // HMAC-SHA256 cut to 128 bits
constexpr std::size_t kMaxUserIdBytes = 64;
constexpr std::size_t kMaxExpiryDigits = 12;  // Unix seconds until the year 33658
constexpr char kTokenTag[] = "parley-resume-v2\n";
constexpr char kHex[] = "0123456789abcdef";

std::string hex(const unsigned char* data, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

}  // namespace

std::string Identity::new_user_id() const {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  return "u" + hex(bytes, sizeof bytes);
}

std::string Identity::token(std::string_view user_id, int64_t expiry) const {
  const std::string expiry_text = std::to_string(expiry);
  // The tag keeps these MACs apart from any other use of the secret (and from
  // the two-part tokens of before, whose MAC covered the user id alone).
  std::string input = kTokenTag;
  input.append(user_id).append("\n").append(expiry_text);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(user_id) + "." + expiry_text + "." + hex(mac, kMacBytes);
}

std::string Identity::token_for(std::string_view user_id, Clock::time_point now) const {
  const auto expiry =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch() + ttl_);
  return token(user_id, expiry.count());
}

std::optional<std::string> Identity::verify(std::string_view token_text,
                                            Clock::time_point now) const {
  const std::size_t first = token_text.find('.');
  const std::size_t last = token_text.rfind('.');
  if (first == std::string_view::npos || first == 0 || first > kMaxUserIdBytes || last == first) {
    return std::nullopt;
  }
  const std::string_view user = token_text.substr(0, first);
  const std::string_view expiry_text = token_text.substr(first + 1, last - first - 1);
  if (expiry_text.empty() || expiry_text.size() > kMaxExpiryDigits ||
      !std::all_of(expiry_text.begin(), expiry_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int64_t expiry = std::stoll(std::string(expiry_text));
  // Recomputed from the parsed parts: a non-canonical expiry (leading zeros)
  // gives another text and fails the comparison like a forgery.
  const std::string expected = token(user, expiry);
  // Constant-time comparison: the token is a credential.
  if (expected.size() != token_text.size() ||
      CRYPTO_memcmp(expected.data(), token_text.data(), token_text.size()) != 0) {
    return std::nullopt;
  }
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_seconds >= expiry) return std::nullopt;
  return std::string(user);
}

std::optional<std::string> Identity::load_or_create_secret(const std::string& path,
                                                           std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (secret.size() >= kSecretBytes) return secret;
  }
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    error = "cannot generate random bytes";
    return std::nullopt;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  bool ok =
      ::write(fd, bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    error = "cannot write " + path;
    return std::nullopt;
  }
  return std::string(reinterpret_cast<char*>(bytes), sizeof bytes);
}

}  // namespace parley::chat
