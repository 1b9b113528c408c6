#include "chat/identity.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace parley::chat {
namespace {

constexpr std::size_t kSecretBytes = 32;
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

std::string Identity::token_for(std::string_view user_id) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(user_id.data()), user_id.size(), mac, &len);
  return std::string(user_id) + "." + hex(mac, len);
}

std::optional<std::string> Identity::verify(std::string_view token) const {
  auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) return std::nullopt;
  std::string user(token.substr(0, dot));
  std::string expected = token_for(user);
  // Constant-time comparison: the token is a credential.
  if (expected.size() != token.size() ||
      CRYPTO_memcmp(expected.data(), token.data(), token.size()) != 0) {
    return std::nullopt;
  }
  return user;
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
