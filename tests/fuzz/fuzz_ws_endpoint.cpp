// libFuzzer target: arbitrary bytes into an Endpoint, cut into pieces whose
// sizes are derived from the input, checking the Endpoint's promises:
//   - no callback after on_close, and on_close at most once;
//   - a Text message is valid UTF-8, no message exceeds max_message_size;
//   - everything sent is whole, well-formed frames in the right masking, and
//     no Close frame carries 1005/1006;
//   - no view outlives feed() (each piece is a fresh heap copy, so ASan sees it).
//
// Input layout: byte 0 picks the role (bit 0), whether on_message calls
// close() (bit 1) and seeds the piece sizes; the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/close_code.h"
#include "ws/endpoint.h"
#include "ws/frame_parser.h"
#include "ws/utf8.h"

namespace {

using parley::ws::Endpoint;
using parley::ws::FrameParser;
using parley::ws::Opcode;
using parley::ws::Role;

constexpr std::size_t kMaxMessageSize = 300;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

class CheckingHandler : public Endpoint::Handler {
 public:
  CheckingHandler(Role role, bool close_on_message)
      : close_on_message_(close_on_message),
        // What we send is read by the other side's parser.
        peer_parser_(role == Role::Server ? Role::Client : Role::Server) {}

  void on_message(Opcode op, std::string_view payload) override {
    check_open();
    if (op != Opcode::Text && op != Opcode::Binary) violated("message opcode");
    if (payload.size() > kMaxMessageSize) violated("message over max_message_size");
    if (op == Opcode::Text && !parley::ws::is_valid_utf8(payload)) violated("text not UTF-8");
    if (close_on_message_ && endpoint) endpoint->close(parley::ws::close_code::Normal, "bye");
  }
  void on_ping(std::string_view payload) override {
    check_open();
    if (payload.size() > 125) violated("ping payload");
  }
  void on_pong(std::string_view payload) override {
    check_open();
    if (payload.size() > 125) violated("pong payload");
  }
  void send(std::string_view frame) override {
    check_open();
    check_one_frame(frame);
  }
  void on_close(uint16_t, std::string_view) override {
    check_open();
    closed_ = true;
  }

  Endpoint* endpoint = nullptr;

 private:
  void check_open() const {
    if (closed_) violated("callback after on_close");
  }

  // Each send() is exactly one complete, well-formed control frame.
  void check_one_frame(std::string_view frame) {
    std::string copy(frame);
    std::span<char> rest(copy);
    std::string payload;
    bool complete = false;
    while (!complete) {
      const auto step = peer_parser_.next(rest);
      rest = rest.subspan(step.consumed);
      if (step.event == FrameParser::Event::Error) violated("sent a malformed frame");
      if (step.event == FrameParser::Event::NeedMore) violated("sent a partial frame");
      if (step.event == FrameParser::Event::Payload) {
        payload.append(step.payload.data(), step.payload.size());
        complete = step.frame_complete;
      }
    }
    if (!rest.empty()) violated("sent more than one frame");
    const Opcode op = peer_parser_.header().opcode;
    if (op != Opcode::Pong && op != Opcode::Close) violated("sent a data frame");
    if (op == Opcode::Close) {
      if (sent_close_) violated("sent two close frames");
      sent_close_ = true;
      if (payload.size() == 1) violated("close payload of 1 byte");
      if (payload.size() >= 2) {
        const auto code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                static_cast<uint8_t>(payload[1]));
        if (!parley::ws::is_valid_received_close_code(code)) violated("sent a bad close code");
        if (!parley::ws::is_valid_utf8(std::string_view(payload).substr(2))) {
          violated("sent a close reason that is not UTF-8");
        }
      }
    } else if (sent_close_) {
      violated("sent a pong after close");
    }
  }

  bool close_on_message_;
  bool closed_ = false;
  bool sent_close_ = false;
  FrameParser peer_parser_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const Role role = (control & 1) ? Role::Client : Role::Server;
  const bool close_on_message = (control & 2) != 0;
  uint32_t rng = 0x9E3779B9u ^ (control >> 2);
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  CheckingHandler handler(role, close_on_message);
  Endpoint endpoint(role, Endpoint::Limits{.max_message_size = kMaxMessageSize}, handler);
  handler.endpoint = &endpoint;

  std::size_t pos = 0;
  while (pos < stream.size()) {
    rng = rng * 1664525u + 1013904223u;
    std::size_t n = (rng >> 24) % 4 == 0 ? 1 + (rng >> 8) % 512 : 1 + (rng >> 8) % 9;
    n = std::min(n, stream.size() - pos);
    std::vector<char> piece(stream.begin() + pos, stream.begin() + pos + n);
    endpoint.feed(piece);
    pos += n;
  }
  return 0;
}
