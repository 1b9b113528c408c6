#include "support/wire.h"

#include <cstdlib>

#include "ws/frame_writer.h"

namespace parley::testing {

std::string get_request(std::string_view path, std::string_view extra) {
  std::string r = "GET ";
  r.append(path).append(" HTTP/1.1\r\nHost: test\r\n").append(extra).append("\r\n");
  return r;
}

std::string upgrade_request(std::string_view path, std::string_view protocol) {
  std::string extra =
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!protocol.empty()) extra.append("Sec-WebSocket-Protocol: ").append(protocol).append("\r\n");
  return get_request(path, extra);
}

std::string client_frame(ws::Opcode op, std::string_view payload, bool fin) {
  std::string out;
  ws::append_masked_frame(out, op, payload, ws::MaskKey{0x12, 0x34, 0x56, 0x78}, fin);
  return out;
}

std::string client_close(uint16_t code) {
  char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return client_frame(ws::Opcode::Close, std::string_view(payload, 2));
}

uint16_t ServerFrame::close_code() const {
  if (payload.size() < 2) return 1005;
  return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                               static_cast<uint8_t>(payload[1]));
}

std::vector<ServerFrame> take_frames(std::string& bytes) {
  std::vector<ServerFrame> frames;
  std::size_t at = 0;
  while (bytes.size() - at >= 2) {
    auto b = [&](std::size_t i) { return static_cast<uint8_t>(bytes[at + i]); };
    uint64_t len = b(1) & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      if (bytes.size() - at < 4) break;
      len = (uint64_t{b(2)} << 8) | b(3);
      head = 4;
    } else if (len == 127) {
      if (bytes.size() - at < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b(2 + static_cast<std::size_t>(i));
      head = 10;
    }
    if (bytes.size() - at - head < len) break;
    ServerFrame f;
    f.fin = (b(0) & 0x80) != 0;
    f.opcode = static_cast<ws::Opcode>(b(0) & 0x0f);
    f.payload = bytes.substr(at + head, len);
    frames.push_back(std::move(f));
    at += head + len;
  }
  bytes.erase(0, at);
  return frames;
}

std::optional<HttpAnswer> take_response(std::string& bytes) {
  std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos || !bytes.starts_with("HTTP/1.1 ")) return std::nullopt;
  HttpAnswer a;
  a.head = bytes.substr(0, end + 4);
  a.status = std::atoi(a.head.c_str() + 9);
  std::size_t length = 0;
  std::size_t cl = a.head.find("\r\nContent-Length: ");
  if (cl != std::string::npos) length = std::strtoul(a.head.c_str() + cl + 18, nullptr, 10);
  if (bytes.size() < end + 4 + length) return std::nullopt;
  a.body = bytes.substr(end + 4, length);
  bytes.erase(0, end + 4 + length);
  return a;
}

}  // namespace parley::testing
