// Incremental, sans-I/O WebSocket frame parser (RFC 6455 §5.2).
//
// Pull-style: the caller hands next() whatever bytes it has (one byte, or many
// frames) and gets one event back plus how many bytes it used, then calls again
// with the rest. Events:
//   Header   - a frame header was parsed and checked; see header().
//   Payload  - the next piece of the current frame's payload, unmasked in place
//              (a view into the caller's bytes). A frame of length 0 still
//              yields one empty piece, so every frame ends with exactly one
//              piece marked frame_complete.
//   NeedMore - every byte was consumed; call again when more arrive.
//   Error    - the stream violates the protocol; error_code()/error_reason()
//              say why. The parser stays failed.
// A header split across calls is gathered in a 14-byte buffer; payload bytes
// are never copied. The parser never allocates and knows nothing about
// messages: fragmentation, sizes and UTF-8 are the Endpoint's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ws/frame_limits.h"
#include "ws/mask.h"
#include "ws/opcode.h"
#include "ws/role.h"

namespace parley::ws {

struct FrameHeader {
  Opcode opcode = Opcode::Continuation;
  bool fin = false;
  bool rsv1 = false;  // only ever true once RSV1 is allowed (permessage-deflate)
  bool masked = false;
  MaskKey mask{};
  uint64_t payload_length = 0;
};

class FrameParser {
 public:
  enum class Event : uint8_t { NeedMore, Header, Payload, Error };

  struct Step {
    Event event = Event::NeedMore;
    std::size_t consumed = 0;     // bytes of the input used by this step
    std::span<char> payload;      // Event::Payload: unmasked bytes, inside the input
    bool frame_complete = false;  // Event::Payload: last piece of this frame
  };

  // Role decides the masking rule: a Server requires masked frames, a Client
  // rejects them.
  explicit FrameParser(Role role) : role_(role) {}

  // Mutable input: masked payload is unmasked in place.
  Step next(std::span<char> input);

  // The current frame's header; valid from its Header event until the next one.
  const FrameHeader& header() const { return header_; }

  bool failed() const { return state_ == State::Failed; }
  uint16_t error_code() const { return error_code_; }
  std::string_view error_reason() const { return error_reason_; }

  // Seam for permessage-deflate (RFC 7692): once negotiated, RSV1 is legal on
  // the first frame of a data message. RSV2/RSV3 stay errors.
  void set_rsv1_allowed(bool allowed) { rsv1_allowed_ = allowed; }

 private:
  enum class State : uint8_t { Header, Payload, Failed };

  Step parse_header(std::span<char> input);
  Step take_payload(std::span<char> input);
  // Both return the reason of a protocol error, or an empty view when fine.
  // Checks everything the first two header bytes decide.
  std::string_view check_first_bytes(unsigned char b0, unsigned char b1) const;
  // Decodes a complete header and enters the payload state.
  std::string_view decode_header(const unsigned char* h);
  Step fail(std::string_view reason);

  Role role_;
  State state_ = State::Header;
  bool rsv1_allowed_ = false;
  uint8_t partial_header_size_ = 0;
  unsigned char partial_header_[kMaxFrameHeaderSize] = {};
  FrameHeader header_;
  uint64_t payload_remaining_ = 0;
  uint64_t payload_offset_ = 0;  // mask phase for pieces after the first
  uint16_t error_code_ = 0;
  std::string_view error_reason_;  // always a string literal
};

}  // namespace parley::ws
