#include "http/content_sniff.h"

namespace parley::http {
namespace {

uint32_t be16(std::string_view s, std::size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 8) |
         static_cast<unsigned char>(s[at + 1]);
}

uint32_t le16(std::string_view s, std::size_t at) {
  return static_cast<unsigned char>(s[at]) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8);
}

uint32_t le24(std::string_view s, std::size_t at) {
  return le16(s, at) | (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16);
}

uint32_t be32(std::string_view s, std::size_t at) {
  return (be16(s, at) << 16) | be16(s, at + 2);
}

Sniffed image(std::string_view type, uint32_t width, uint32_t height) {
  // A zero side means "unknown": both or neither.
  if (width == 0 || height == 0) width = height = 0;
  return Sniffed{type, true, width, height};
}

// PNG: the signature, then IHDR (width, height: 4 bytes each, big-endian).
Sniffed png(std::string_view s) {
  if (s.size() >= 24 && s.substr(12, 4) == "IHDR") {
    return image("image/png", be32(s, 16), be32(s, 20));
  }
  return image("image/png", 0, 0);
}

// JPEG: walks the markers to the first start-of-frame (SOF0-SOF15 but DHT,
// JPG and DAC), whose body holds height then width.
Sniffed jpeg(std::string_view s) {
  std::size_t at = 2;
  while (at + 4 <= s.size()) {
    if (static_cast<unsigned char>(s[at]) != 0xff) break;
    const auto marker = static_cast<unsigned char>(s[at + 1]);
    if (marker == 0xff) {  // fill byte
      ++at;
      continue;
    }
    const uint32_t length = be16(s, at + 2);
    const bool sof =
        marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    if (sof) {
      if (at + 9 > s.size()) break;
      return image("image/jpeg", be16(s, at + 7), be16(s, at + 5));
    }
    if (length < 2) break;
    at += 2 + length;
  }
  return image("image/jpeg", 0, 0);
}

// WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless)
// or VP8X (extended).
Sniffed webp(std::string_view s) {
  if (s.size() >= 30 && s.substr(12, 4) == "VP8 " && s.substr(23, 3) == "\x9d\x01\x2a") {
    return image("image/webp", le16(s, 26) & 0x3fff, le16(s, 28) & 0x3fff);
  }
  if (s.size() >= 25 && s.substr(12, 4) == "VP8L" && s[20] == '\x2f') {
    const uint32_t bits = le16(s, 21) | (le16(s, 23) << 16);
    return image("image/webp", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (s.size() >= 30 && s.substr(12, 4) == "VP8X") {
    return image("image/webp", le24(s, 24) + 1, le24(s, 27) + 1);
  }
  return image("image/webp", 0, 0);
}

}  // namespace

Sniffed sniff(std::string_view head, bool whole_file_is_text) {
  if (head.starts_with("\x89PNG\r\n\x1a\n")) return png(head);
  if (head.starts_with("\xff\xd8\xff")) return jpeg(head);
  if (head.starts_with("GIF87a") || head.starts_with("GIF89a")) {
    return image("image/gif", head.size() >= 10 ? le16(head, 6) : 0,
                 head.size() >= 10 ? le16(head, 8) : 0);
  }
  if (head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP") {
    return webp(head);
  }
  if (head.starts_with("%PDF-")) return Sniffed{"application/pdf"};
  if (whole_file_is_text && !head.empty()) return Sniffed{"text/plain; charset=utf-8"};
  return Sniffed{};
}

}  // namespace parley::http
