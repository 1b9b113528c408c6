// The Endpoint's promises, checked on every callback by the fuzz targets that
// drive an Endpoint (fuzz_ws_endpoint, fuzz_ws_deflate):
//   - no callback after on_close, and on_close at most once;
//   - a Text message is valid UTF-8, no message exceeds the size limit;
//   - everything sent is whole, well-formed control frames in the right
//     masking, and no Close frame carries 1005/1006 or comes twice.
#pragma once

#include <algorithm>
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

namespace parley::ws::fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

class CheckingHandler : public Endpoint::Handler {
 public:
  CheckingHandler(Role role, bool close_on_message, std::size_t max_message_size)
      : close_on_message_(close_on_message),
        max_message_size_(max_message_size),
        // What we send is read by the other side's parser.
        peer_parser_(role == Role::Server ? Role::Client : Role::Server) {}

  void on_message(Opcode op, std::string_view payload) override {
    check_open();
    if (op != Opcode::Text && op != Opcode::Binary) violated("message opcode");
    if (payload.size() > max_message_size_) violated("message over max_message_size");
    if (op == Opcode::Text && !is_valid_utf8(payload)) violated("text not UTF-8");
    if (close_on_message_ && endpoint) endpoint->close(close_code::Normal, "bye");
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
        if (!is_valid_received_close_code(code)) violated("sent a bad close code");
        if (!is_valid_utf8(std::string_view(payload).substr(2))) {
          violated("sent a close reason that is not UTF-8");
        }
      }
    } else if (sent_close_) {
      violated("sent a pong after close");
    }
  }

  bool close_on_message_;
  std::size_t max_message_size_;
  bool closed_ = false;
  bool sent_close_ = false;
  FrameParser peer_parser_;
};

// Feeds `stream` to the endpoint in pieces whose sizes (1-9 bytes, or up to
// 512) follow from `seed`, each from a fresh heap copy so ASan sees any view
// kept past feed().
inline void feed_in_pieces(Endpoint& endpoint, std::string_view stream, uint32_t seed) {
  uint32_t rng = 0x9E3779B9u ^ seed;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    rng = rng * 1664525u + 1013904223u;
    std::size_t n = (rng >> 24) % 4 == 0 ? 1 + (rng >> 8) % 512 : 1 + (rng >> 8) % 9;
    n = std::min(n, stream.size() - pos);
    std::vector<char> piece(stream.begin() + pos, stream.begin() + pos + n);
    // feed() may stop early when an inflate allowance is set: it must then
    // be spent, and the rest is fed after the allowance is raised (by a
    // step of 1 to 256 bytes, so that stops fall everywhere).
    std::span<char> rest(piece);
    for (;;) {
      const std::size_t used = endpoint.feed(rest);
      if (used > rest.size()) violated("feed() used more than it was given");
      if (used < rest.size() && !endpoint.inflate_allowance_spent()) {
        violated("feed() stopped with inflate allowance left");
      }
      if (endpoint.inflate_allowance_spent()) {
        endpoint.set_inflate_allowance(endpoint.inflated_bytes() + 1 + (rng >> 16) % 256);
      }
      if (used == rest.size()) break;
      rest = rest.subspan(used);
    }
    pos += n;
  }
}

}  // namespace parley::ws::fuzz
