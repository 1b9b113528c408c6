#include "ws/frame_writer.h"

#include <algorithm>
#include <cstring>

#include "ws/utf8.h"

namespace parley::ws {

std::size_t frame_header_size(std::size_t payload_len, bool masked) {
  std::size_t size = 2;
  if (payload_len > 0xFFFF) {
    size += 8;
  } else if (payload_len > 125) {
    size += 2;
  }
  return masked ? size + 4 : size;
}

std::size_t write_frame_header(char* out, Opcode op, std::size_t payload_len, bool fin,
                               const MaskKey* mask, bool compressed) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>((fin ? 0x80 : 0x00) | (compressed ? 0x40 : 0x00) |
                                    static_cast<uint8_t>(op));
  const unsigned char mask_bit = mask ? 0x80 : 0x00;
  std::size_t n = 2;
  if (payload_len <= 125) {
    p[1] = static_cast<unsigned char>(mask_bit | payload_len);
  } else if (payload_len <= 0xFFFF) {
    p[1] = mask_bit | 126;
    p[2] = static_cast<unsigned char>(payload_len >> 8);
    p[3] = static_cast<unsigned char>(payload_len);
    n = 4;
  } else {
    p[1] = mask_bit | 127;
    const auto len = static_cast<uint64_t>(payload_len);
    for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(len >> (56 - 8 * i));
    n = 10;
  }
  if (mask) {
    std::memcpy(p + n, mask->data(), 4);
    n += 4;
  }
  return n;
}

void append_frame(std::string& out, Opcode op, std::string_view payload, bool fin,
                  bool compressed) {
  char header[kMaxFrameHeaderSize];
  const std::size_t n = write_frame_header(header, op, payload.size(), fin, nullptr, compressed);
  out.reserve(out.size() + n + payload.size());
  out.append(header, n);
  out.append(payload);
}

std::string encode_frame(Opcode op, std::string_view payload, bool fin, bool compressed) {
  std::string out;
  append_frame(out, op, payload, fin, compressed);
  return out;
}

void append_masked_frame(std::string& out, Opcode op, std::string_view payload, MaskKey mask,
                         bool fin, bool compressed) {
  char header[kMaxFrameHeaderSize];
  const std::size_t n = write_frame_header(header, op, payload.size(), fin, &mask, compressed);
  out.reserve(out.size() + n + payload.size());
  out.append(header, n);
  const std::size_t start = out.size();
  out.append(payload);
  apply_mask(out.data() + start, payload.size(), mask);
}

ClosePayload make_close_payload(uint16_t code, std::string_view reason) {
  ClosePayload p;
  p.bytes[0] = static_cast<char>(code >> 8);
  p.bytes[1] = static_cast<char>(code & 0xFF);
  const std::string_view cut = truncate_utf8(reason, kMaxCloseReason);
  std::copy(cut.begin(), cut.end(), p.bytes.begin() + 2);
  p.size = 2 + cut.size();
  return p;
}

std::string encode_close_frame(uint16_t code, std::string_view reason) {
  return encode_frame(Opcode::Close, make_close_payload(code, reason).view());
}

}  // namespace parley::ws
