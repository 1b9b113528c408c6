#include "ws/frame_parser.h"

#include <algorithm>
#include <cstring>

#include "ws/close_code.h"

namespace parley::ws {
namespace {

// Total header size announced by the second header byte (mask bit + 7-bit length).
std::size_t header_size_from(unsigned char b1) {
  std::size_t size = 2;
  const unsigned len7 = b1 & 0x7F;
  if (len7 == 126) size += 2;
  if (len7 == 127) size += 8;
  if (b1 & 0x80) size += 4;
  return size;
}

}  // namespace

FrameParser::Step FrameParser::next(std::span<char> input) {
  switch (state_) {
    case State::Header:
      return parse_header(input);
    case State::Payload:
      return take_payload(input);
    case State::Failed:
      break;
  }
  return {Event::Error, 0, {}, false};
}

FrameParser::Step FrameParser::parse_header(std::span<char> input) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());

  // Fast path: a whole header inside the input is decoded where it lies.
  if (partial_header_size_ == 0 && input.size() >= 2) {
    if (auto error = check_first_bytes(in[0], in[1]); !error.empty()) return fail(error);
    const std::size_t size = header_size_from(in[1]);
    if (input.size() >= size) {
      if (auto error = decode_header(in); !error.empty()) return fail(error);
      return {Event::Header, size, {}, false};
    }
  }

  // Slow path: gather the header piece by piece. The first two bytes are
  // checked as soon as they are in, so a bad frame fails without waiting for
  // the rest of its header.
  std::size_t consumed = 0;
  for (;;) {
    const std::size_t size = partial_header_size_ < 2 ? 2 : header_size_from(partial_header_[1]);
    if (partial_header_size_ == size) break;
    if (consumed == input.size()) return {Event::NeedMore, consumed, {}, false};
    const std::size_t take = std::min(size - partial_header_size_, input.size() - consumed);
    std::memcpy(partial_header_ + partial_header_size_, in + consumed, take);
    const bool first_bytes_arrived = partial_header_size_ < 2 && partial_header_size_ + take >= 2;
    partial_header_size_ = static_cast<uint8_t>(partial_header_size_ + take);
    consumed += take;
    if (first_bytes_arrived) {
      auto error = check_first_bytes(partial_header_[0], partial_header_[1]);
      if (!error.empty()) return fail(error);
    }
  }
  partial_header_size_ = 0;
  if (auto error = decode_header(partial_header_); !error.empty()) return fail(error);
  return {Event::Header, consumed, {}, false};
}

std::string_view FrameParser::check_first_bytes(unsigned char b0, unsigned char b1) const {
  const bool fin = b0 & 0x80;
  const bool rsv1 = b0 & 0x40;
  const uint8_t raw_opcode = b0 & 0x0F;
  const bool masked = b1 & 0x80;
  const unsigned len7 = b1 & 0x7F;

  if (b0 & 0x30) return "reserved bits RSV2/RSV3 set";
  if (!is_defined_opcode(raw_opcode)) return "reserved opcode";
  const auto opcode = static_cast<Opcode>(raw_opcode);
  // RSV1 is only meaningful with permessage-deflate, and then only on the
  // first frame of a data message.
  if (rsv1 && (!rsv1_allowed_ || is_control(opcode) || opcode == Opcode::Continuation)) {
    return "reserved bit RSV1 set";
  }
  if (role_ == Role::Server && !masked) return "client frame not masked";
  if (role_ == Role::Client && masked) return "server frame masked";
  if (is_control(opcode)) {
    if (!fin) return "fragmented control frame";
    if (len7 > kMaxControlPayload) return "control frame payload over 125 bytes";
  }
  return {};
}

std::string_view FrameParser::decode_header(const unsigned char* h) {
  header_.fin = h[0] & 0x80;
  header_.rsv1 = h[0] & 0x40;
  header_.opcode = static_cast<Opcode>(h[0] & 0x0F);
  header_.masked = h[1] & 0x80;
  uint64_t length = h[1] & 0x7F;
  std::size_t pos = 2;
  // Non-minimal length encodings (e.g. 5 in 16 bits) are accepted: §5.2 obliges
  // senders to use the minimal form but does not ask receivers to reject others.
  if (length == 126) {
    length = (uint64_t{h[2]} << 8) | h[3];
    pos = 4;
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | h[2 + i];
    pos = 10;
    if (length >> 63) return "64-bit payload length with the high bit set";
  }
  if (header_.masked) std::memcpy(header_.mask.data(), h + pos, 4);
  header_.payload_length = length;
  payload_remaining_ = length;
  payload_offset_ = 0;
  state_ = State::Payload;
  return {};
}

FrameParser::Step FrameParser::take_payload(std::span<char> input) {
  const std::size_t n =
      static_cast<std::size_t>(std::min<uint64_t>(payload_remaining_, input.size()));
  if (n == 0 && payload_remaining_ != 0) return {Event::NeedMore, 0, {}, false};
  if (header_.masked) {
    apply_mask(input.data(), n, header_.mask, static_cast<std::size_t>(payload_offset_ & 3));
  }
  payload_offset_ += n;
  payload_remaining_ -= n;
  const bool complete = payload_remaining_ == 0;
  if (complete) state_ = State::Header;
  return {Event::Payload, n, input.first(n), complete};
}

FrameParser::Step FrameParser::fail(std::string_view reason) {
  state_ = State::Failed;
  error_code_ = close_code::ProtocolError;
  error_reason_ = reason;
  return {Event::Error, 0, {}, false};
}

}  // namespace parley::ws
