#include "ws/client_handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
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
                                  std::string_view key, std::span<const std::string> protocols,
                                  bool offer_deflate) {
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
  if (offer_deflate)
    r += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  r += "\r\n";
  return r;
}

Result<DeflateParams> read_deflate_answer(std::string_view header) {
  auto invalid = [](std::string why) {
    return Error{Errc::Invalid, "permessage-deflate answer: " + std::move(why)};
  };
  auto answers = parse_extension_offers(header);
  if (!answers) return invalid("does not parse");
  if (answers->size() != 1 || answers->front().name != kPermessageDeflate) {
    return invalid("not exactly one permessage-deflate");
  }
  DeflateParams params;
  std::vector<std::string_view> seen;
  for (const ExtensionParam& p : answers->front().params) {
    if (std::ranges::find(seen, p.name) != seen.end()) return invalid(p.name + " twice");
    seen.push_back(p.name);
    const bool flag =
        p.name == "server_no_context_takeover" || p.name == "client_no_context_takeover";
    const bool bits = p.name == "server_max_window_bits" || p.name == "client_max_window_bits";
    if (flag) {
      if (p.value) return invalid(p.name + " with a value");
      (p.name.starts_with("server") ? params.server_no_context_takeover
                                    : params.client_no_context_takeover) = true;
    } else if (bits) {
      // A window size answered is 8-15, without leading zeroes (§7.1.2).
      const std::string& v = p.value.value_or("");
      if (v.size() < 1 || v.size() > 2 || v[0] == '0' ||
          !std::ranges::all_of(v, [](char c) { return c >= '0' && c <= '9'; })) {
        return invalid(p.name + " without a window size");
      }
      const int n = std::stoi(v);
      if (n < kMinWindowBits || n > kMaxWindowBits) return invalid(p.name + " out of 8-15");
      (p.name.starts_with("server") ? params.server_max_window_bits
                                    : params.client_max_window_bits) = static_cast<uint8_t>(n);
    } else {
      return invalid("unknown parameter " + p.name);
    }
  }
  return params;
}

ServerHandshakeCheck check_server_handshake(std::string_view response_head, std::string_view key,
                                            std::span<const std::string> offered_protocols,
                                            bool offered_deflate) {
  const auto head = parse_response_head(response_head);
  if (!head) return failed("malformed HTTP response");
  if (head->status != 101) return failed("status " + std::to_string(head->status) + ", not 101");
  if (!head->list_has("Upgrade", "websocket")) return failed("Upgrade is not websocket");
  if (!head->list_has("Connection", "upgrade")) return failed("Connection does not list upgrade");
  const auto accept = head->values("Sec-WebSocket-Accept");
  if (accept.size() != 1 || accept[0] != compute_accept_key(key)) {
    return failed("wrong Sec-WebSocket-Accept");
  }
  ServerHandshakeCheck check;
  const auto extensions = head->values("Sec-WebSocket-Extensions");
  if (!extensions.empty()) {
    if (!offered_deflate || extensions.size() != 1) {
      return failed("server confirmed an extension that was not offered");
    }
    Result<DeflateParams> deflate = read_deflate_answer(extensions[0]);
    if (!deflate) return failed(deflate.error().message);
    check.deflate = *deflate;
  }
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
