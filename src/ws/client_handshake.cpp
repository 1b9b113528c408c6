#include "ws/client_handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "base/strings.h"

#include "http/request.h"
#include "ws/handshake.h"

namespace parley::ws {
namespace {

// Just enough of an HTTP response head for the checks below: the status code
// and the header fields, as views into the caller's text.
struct ResponseHead {
  int status = 0;
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  std::vector<std::string_view> values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : headers) {
      if (http::iequals(n, name)) out.push_back(v);
    }
    return out;
  }
  bool list_has(std::string_view name, std::string_view token) const {
    for (std::string_view v : values(name)) {
      if (http::list_has_token(v, token)) return true;
    }
    return false;
  }
};

std::optional<ResponseHead> parse_response_head(std::string_view text) {
  ResponseHead head;
  const std::size_t line_end = text.find("\r\n");
  const std::string_view status_line = text.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols"
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    return std::nullopt;
  }
  for (std::size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') return std::nullopt;
    head.status = head.status * 10 + (status_line[i] - '0');
  }
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : text.substr(line_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
    if (line.empty()) break;  // end of the head
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    head.headers.emplace_back(line.substr(0, colon), trim_ows(line.substr(colon + 1)));
  }
  return head;
}

ServerHandshakeCheck failed(std::string error) {
  ServerHandshakeCheck check;
  check.error = std::move(error);
  return check;
}

}  // namespace

std::string make_random_key() {
  std::array<unsigned char, 16> nonce{};
  (void)RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
  std::array<unsigned char, 25> encoded;  // 24 characters + NUL
  const int n = EVP_EncodeBlock(encoded.data(), nonce.data(), static_cast<int>(nonce.size()));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

std::string make_client_handshake(std::string_view host, std::string_view path,
                                  std::string_view key, std::span<const std::string> protocols) {
  std::string r;
  r.reserve(160 + host.size() + path.size() + key.size());
  r += "GET ";
  r += path.empty() ? std::string_view("/") : path;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r += key;
  r += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!protocols.empty()) {
    r += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < protocols.size(); ++i) {
      if (i > 0) r += ", ";
      r += protocols[i];
    }
    r += "\r\n";
  }
  r += "\r\n";
  return r;
}

ServerHandshakeCheck check_server_handshake(std::string_view response_head, std::string_view key,
                                            std::span<const std::string> offered_protocols) {
  const auto head = parse_response_head(response_head);
  if (!head) return failed("malformed HTTP response");
  if (head->status != 101) return failed("status " + std::to_string(head->status) + ", not 101");
  if (!head->list_has("Upgrade", "websocket")) return failed("Upgrade is not websocket");
  if (!head->list_has("Connection", "upgrade")) return failed("Connection does not list upgrade");
  const auto accept = head->values("Sec-WebSocket-Accept");
  if (accept.size() != 1 || accept[0] != compute_accept_key(key)) {
    return failed("wrong Sec-WebSocket-Accept");
  }
  if (!head->values("Sec-WebSocket-Extensions").empty()) {
    return failed("server confirmed an extension that was not offered");
  }
  ServerHandshakeCheck check;
  const auto protocol = head->values("Sec-WebSocket-Protocol");
  if (protocol.size() > 1) return failed("several Sec-WebSocket-Protocol headers");
  if (protocol.size() == 1) {
    bool offered = false;
    for (const std::string& p : offered_protocols) offered = offered || p == protocol[0];
    if (!offered) return failed("server chose a subprotocol that was not offered");
    check.subprotocol = std::string(protocol[0]);
  }
  check.ok = true;
  return check;
}

}  // namespace parley::ws
