// WebSocket frame opcodes (RFC 6455 §5.2). Values 3-7 and 11-15 are reserved
// and rejected by the FrameParser, so an Opcode always holds one of these six.
#pragma once

#include <cstdint>

namespace parley::ws {

enum class Opcode : uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// Control frames (Close, Ping, Pong) have the high opcode bit set (§5.5). They
// may be interleaved with the fragments of a data message.
constexpr bool is_control(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

// True for the six opcodes RFC 6455 defines; false for the reserved ones.
constexpr bool is_defined_opcode(uint8_t raw) {
  return raw <= 0x2 || (raw >= 0x8 && raw <= 0xA);
}

}  // namespace parley::ws
