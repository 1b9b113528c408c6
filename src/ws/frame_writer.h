// Frame encoding (RFC 6455 §5.2). Server frames are unmasked, so a frame
// encoded once can be written unchanged to every connection of a broadcast.
// Client frames (load generator, tests) are masked with a caller-given key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame_limits.h"
#include "ws/mask.h"
#include "ws/opcode.h"

namespace parley::ws {

// Header bytes for a payload of this length: 2, 4 (16-bit length) or 10 (64-bit
// length), plus 4 when masked.
std::size_t frame_header_size(std::size_t payload_len, bool masked = false);

// Writes a frame header (with the mask key when `mask` is given) into `out`,
// which must hold frame_header_size() bytes. Returns the bytes written.
// Lengths use the shortest encoding. RSV2/RSV3 are 0; RSV1 is `compressed`:
// set on the first frame of a permessage-deflate message (RFC 7692 §6).
std::size_t write_frame_header(char* out, Opcode op, std::size_t payload_len, bool fin,
                               const MaskKey* mask = nullptr, bool compressed = false);

// Appends an unmasked frame (server to client).
void append_frame(std::string& out, Opcode op, std::string_view payload, bool fin = true,
                  bool compressed = false);

// One unmasked frame as a string, e.g. to share one broadcast between connections.
std::string encode_frame(Opcode op, std::string_view payload, bool fin = true,
                         bool compressed = false);

// Appends a masked frame (client to server).
void append_masked_frame(std::string& out, Opcode op, std::string_view payload, MaskKey mask,
                         bool fin = true, bool compressed = false);

// Payload of a Close frame: big-endian code then the reason, cut to 123 bytes
// on a UTF-8 boundary so the frame stays a legal control frame. Fixed-size so
// that closing never allocates.
struct ClosePayload {
  std::array<char, kMaxControlPayload> bytes{};
  std::size_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
};
ClosePayload make_close_payload(uint16_t code, std::string_view reason);

// An unmasked Close frame carrying `code` and `reason` (see ClosePayload).
std::string encode_close_frame(uint16_t code, std::string_view reason = {});

}  // namespace parley::ws
