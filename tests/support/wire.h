// A client's side of the wire, for tests that play the peer of a server-side
// connection: requests and masked frames to send, and the server's frames and
// responses picked out of what it sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws/opcode.h"

namespace parley::testing {

// "GET <path> HTTP/1.1" with a Host; `extra` is more header lines ("A: b\r\n").
std::string get_request(std::string_view path, std::string_view extra = {});
// A WebSocket upgrade request for `path`, offering `protocol` when not empty.
std::string upgrade_request(std::string_view path, std::string_view protocol = {});
// One masked client frame.
std::string client_frame(ws::Opcode op, std::string_view payload, bool fin = true);
// A masked Close frame with a code.
std::string client_close(uint16_t code);

struct ServerFrame {
  ws::Opcode opcode = ws::Opcode::Text;
  bool fin = true;
  std::string payload;
  // For a Close frame: its code (1005 when it has none).
  uint16_t close_code() const;
};

// Takes the unmasked frames at the start of `bytes` off it; an incomplete
// frame at the end stays.
std::vector<ServerFrame> take_frames(std::string& bytes);

// Takes one HTTP response (head, and a body of Content-Length) off the start
// of `bytes`; nullopt when it is not all there. The head includes its CRLFs.
struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
  bool has_header(std::string_view line) const {
    return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
  }
};
std::optional<HttpAnswer> take_response(std::string& bytes);

}  // namespace parley::testing
