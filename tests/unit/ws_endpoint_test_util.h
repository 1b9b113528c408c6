// Helpers shared by the frame parser and Endpoint tests
// (ws_frame_parser_test.cpp, ws_endpoint_test.cpp,
// ws_endpoint_deflate_test.cpp): feeding input in pieces, client frames, a
// handler that records every callback, and a decoder for what was sent.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/close_code.h"
#include "ws/endpoint.h"
#include "ws/frame_parser.h"
#include "ws/frame_writer.h"

namespace parley::ws::test {

struct Split {
  enum Kind { Whole, OneByte, Random } kind;
  unsigned seed = 0;
};

inline std::string split_name(const testing::TestParamInfo<Split>& info) {
  switch (info.param.kind) {
    case Split::Whole:
      return "Whole";
    case Split::OneByte:
      return "OneByte";
    case Split::Random:
      return "Random" + std::to_string(info.param.seed);
  }
  return "?";
}

// Calls feed(piece) for consecutive pieces of `bytes` cut according to `split`.
template <class Feed>
void feed_in_pieces(std::string_view bytes, Split split, Feed&& feed) {
  std::mt19937 rng(split.seed);
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t n = bytes.size() - pos;
    if (split.kind == Split::OneByte) n = 1;
    if (split.kind == Split::Random) n = rng() % 4 == 0 ? 1 + rng() % 300 : 1 + rng() % 7;
    n = std::min(n, bytes.size() - pos);
    std::vector<char> piece(bytes.begin() + pos, bytes.begin() + pos + n);
    feed(std::span<char>(piece));
    pos += n;
  }
}

inline constexpr MaskKey kMask = {0x37, 0xfa, 0x21, 0x3d};

// A frame as a client sends it (masked).
inline std::string client_frame(Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  append_masked_frame(out, op, payload, kMask, fin);
  return out;
}

inline std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  return std::string(make_close_payload(code, reason).view());
}

// Frames in `stream` as "<kind>:<payload>", with close frames as "close:<code>:<reason>".
inline std::vector<std::string> describe_frames(std::string stream, Role reader) {
  FrameParser parser(reader);
  std::vector<std::string> out;
  std::span<char> rest(stream);
  std::string payload;
  for (;;) {
    const auto step = parser.next(rest);
    rest = rest.subspan(step.consumed);
    if (step.event == FrameParser::Event::NeedMore) break;
    if (step.event == FrameParser::Event::Error) {
      out.push_back("parse-error");
      break;
    }
    if (step.event == FrameParser::Event::Header) continue;
    payload.append(step.payload.data(), step.payload.size());
    if (!step.frame_complete) continue;
    const FrameHeader& h = parser.header();
    std::string d;
    switch (h.opcode) {
      case Opcode::Close:
        d = "close:";
        if (payload.size() >= 2) {
          d += std::to_string((static_cast<uint8_t>(payload[0]) << 8) |
                              static_cast<uint8_t>(payload[1]));
          d += ":" + payload.substr(2);
        }
        break;
      case Opcode::Ping:
        d = "ping:" + payload;
        break;
      case Opcode::Pong:
        d = "pong:" + payload;
        break;
      case Opcode::Text:
        d = "text:" + payload;
        break;
      default:
        d = "data:" + payload;
        break;
    }
    out.push_back(d);
    payload.clear();
  }
  return out;
}

// Records every callback and checks none arrives after on_close.
class Recorder : public Endpoint::Handler {
 public:
  void on_message(Opcode op, std::string_view payload) override {
    check_open("on_message");
    events.push_back((op == Opcode::Text ? "text:" : "binary:") + std::string(payload));
    last_message_data = payload.data();
    if (close_on_message) endpoint->close(close_code::Normal, "done");
  }
  void on_refused(Opcode op) override {
    check_open("on_refused");
    events.push_back(op == Opcode::Text ? "refused:text" : "refused:binary");
  }
  void on_ping(std::string_view payload) override {
    check_open("on_ping");
    events.push_back("ping:" + std::string(payload));
  }
  void on_pong(std::string_view payload) override {
    check_open("on_pong");
    events.push_back("pong:" + std::string(payload));
  }
  void send(std::string_view frame) override {
    check_open("send");
    sent.append(frame);
  }
  void on_close(uint16_t code, std::string_view reason) override {
    check_open("on_close");
    closed = true;
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }

  std::vector<std::string> sent_frames(Role our_role) const {
    return describe_frames(sent, our_role == Role::Server ? Role::Client : Role::Server);
  }

  std::vector<std::string> events;
  std::string sent;
  bool closed = false;
  bool close_on_message = false;
  Endpoint* endpoint = nullptr;
  const char* last_message_data = nullptr;

 private:
  void check_open(const char* what) {
    if (closed) ADD_FAILURE() << what << " after on_close";
  }
};

using Events = std::vector<std::string>;

}  // namespace parley::ws::test
