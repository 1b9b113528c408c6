// What an uploaded file is, from its bytes alone (docs/SECURITY.md, "Uploads").
//
// The type a client declares is never used: a file is what its first bytes
// say, and the server serves it as that type with nosniff. Recognised:
// PNG, JPEG, GIF and WebP images (with their size in pixels when the header
// holds it), PDF, and plain text (UTF-8 without control characters other
// than tab, line feed, form feed and carriage return, checked over the whole
// file as it streams in). Everything else is application/octet-stream, which
// browsers only ever download.
//
// Pure: bytes in, a verdict out. Unit-tested and fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::http {

struct Sniffed {
  std::string_view type = "application/octet-stream";
  bool image = false;
  uint32_t width = 0;  // 0 when the header does not say (or is cut short)
  uint32_t height = 0;
};

// How many leading bytes sniff() wants: enough for a JPEG's frame header
// behind a typical EXIF block.
inline constexpr std::size_t kSniffBytes = 64 * 1024;

// The type of a file whose first bytes are `head` (up to kSniffBytes of it),
// given whether the whole file is text (app/uploads.h, TextCheck: valid
// UTF-8 without control characters but \t \n \f \r).
Sniffed sniff(std::string_view head, bool whole_file_is_text);

}  // namespace parley::http
