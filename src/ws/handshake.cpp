#include "ws/handshake.h"

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <string_view>

#include "base/strings.h"

namespace parley::ws {
namespace {

// RFC 6455 §1.3: appended to the client's key before hashing.
constexpr std::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// §4.2.1: the key is base64 of exactly 16 bytes, i.e. 22 characters and "==".
// OpenSSL's decoder tolerates stray whitespace and padding, so the shape is
// checked here first and the decoder then checks the content.
bool is_valid_client_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (!is_base64_char(c)) return false;
  }
  std::array<unsigned char, 18> decoded;  // 24 chars decode to 18 bytes, 2 of them padding
  return EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                         static_cast<int>(key.size())) == 18;
}

std::size_t count_headers(const http::Request& request, std::string_view name) {
  std::size_t n = 0;
  for (const auto& h : request.headers) n += http::iequals(h.name, name) ? 1 : 0;
  return n;
}

// First protocol of ours (in our order) that appears in the client's list.
std::string choose_subprotocol(const http::Request& request, const std::vector<std::string>& ours) {
  const auto offered = request.header_list("Sec-WebSocket-Protocol");
  if (!offered || ours.empty()) return {};
  for (const std::string& candidate : ours) {
    std::string_view rest = *offered;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view token = trim_ows(rest.substr(0, comma));
      // Subprotocol names are tokens compared exactly (§4.1, §11.5).
      if (token == candidate) return candidate;
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return {};
}

HandshakeResult reject(HandshakeResult result, int status, std::string_view status_text,
                       std::string_view extra_headers, std::string error) {
  result.status = status;
  result.subprotocol.clear();
  std::string body = error + "\n";
  std::string& r = result.response;
  r.reserve(160 + extra_headers.size() + body.size());
  r += "HTTP/1.1 ";
  r += std::to_string(status);
  r += ' ';
  r += status_text;
  r += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n";
  r += extra_headers;
  r += "\r\n";
  r += body;
  result.error = std::move(error);
  return result;
}

HandshakeResult bad_request(HandshakeResult result, std::string error) {
  return reject(std::move(result), 400, "Bad Request", "Connection: close\r\n", std::move(error));
}

// RFC 9110 §7.8: a 426 must name the protocol to upgrade to, and whoever sends
// Upgrade must list "upgrade" in Connection.
HandshakeResult upgrade_required(HandshakeResult result, bool with_version, std::string error) {
  std::string_view headers =
      with_version
          ? "Upgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n"
          : "Upgrade: websocket\r\nConnection: Upgrade, close\r\n";
  return reject(std::move(result), 426, "Upgrade Required", headers, std::move(error));
}

}  // namespace

std::string compute_accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kHandshakeGuid.size());
  input.append(key);
  input.append(kHandshakeGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr);
  // base64 of a 20-byte SHA-1 is 28 characters; EVP_EncodeBlock adds a NUL.
  std::array<unsigned char, 32> encoded;
  const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

bool is_websocket_upgrade(const http::Request& request) {
  const auto upgrade = request.header_list("Upgrade");
  return upgrade && http::list_has_token(*upgrade, "websocket");
}

HandshakeResult accept_handshake(const http::Request& request, const HandshakeOptions& options) {
  HandshakeResult result;
  if (auto origin = request.header("Origin")) result.origin = std::string(*origin);

  if (request.method != "GET") {
    return reject(std::move(result), 405, "Method Not Allowed",
                  "Allow: GET\r\nConnection: close\r\n", "WebSocket handshake must use GET");
  }
  if (request.version_major != 1) {
    return reject(std::move(result), 505, "HTTP Version Not Supported", "Connection: close\r\n",
                  "HTTP/1.1 required");
  }
  if (request.version_minor < 1) {
    return bad_request(std::move(result), "WebSocket handshake requires HTTP/1.1");
  }
  if (!request.header("Host")) return bad_request(std::move(result), "missing Host header");
  if (!is_websocket_upgrade(request)) {
    return upgrade_required(std::move(result), false, "Upgrade header must list websocket");
  }
  const auto connection = request.header_list("Connection");
  if (!connection || !http::list_has_token(*connection, "upgrade")) {
    return bad_request(std::move(result), "Connection header must list upgrade");
  }
  const auto version = request.header_list("Sec-WebSocket-Version");
  if (!version || trim_ows(*version) != "13") {
    return upgrade_required(std::move(result), true, "unsupported Sec-WebSocket-Version");
  }
  const auto key = request.header("Sec-WebSocket-Key");
  if (!key || count_headers(request, "Sec-WebSocket-Key") != 1 || !is_valid_client_key(*key)) {
    return bad_request(std::move(result), "invalid Sec-WebSocket-Key");
  }

  result.status = 101;
  result.subprotocol = choose_subprotocol(request, options.subprotocols);
  std::optional<DeflateAgreement> deflate;
  if (options.deflate.enabled) {
    if (const auto offers = request.header_list("Sec-WebSocket-Extensions")) {
      deflate = negotiate_deflate(*offers, options.deflate);
    }
  }
  std::string& r = result.response;
  r.reserve(256 + result.subprotocol.size());
  r += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  r += "Sec-WebSocket-Accept: ";
  r += compute_accept_key(*key);
  r += "\r\n";
  if (!result.subprotocol.empty()) {
    r += "Sec-WebSocket-Protocol: ";
    r += result.subprotocol;
    r += "\r\n";
  }
  if (deflate) {
    r += "Sec-WebSocket-Extensions: ";
    r += deflate->response;
    r += "\r\n";
    result.deflate = deflate->params;
  }
  r += "\r\n";
  return result;
}

}  // namespace parley::ws
