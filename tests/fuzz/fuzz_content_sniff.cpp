// libFuzzer target for the upload sniffer (http/content_sniff.h): any bytes,
// as any file's head, never crash it or read past them, and the verdict is
// one of the types the server serves, with a size only for images.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/content_sniff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using parley::http::sniff;
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  for (bool text : {false, true}) {
    const parley::http::Sniffed s = sniff(head, text);
    const bool known = s.type == "image/png" || s.type == "image/jpeg" || s.type == "image/gif" ||
                       s.type == "image/webp" || s.type == "application/pdf" ||
                       s.type == "text/plain; charset=utf-8" ||
                       s.type == "application/octet-stream";
    if (!known) std::abort();
    if (s.image != s.type.starts_with("image/")) std::abort();
    if (!s.image && (s.width != 0 || s.height != 0)) std::abort();
    if ((s.width == 0) != (s.height == 0)) std::abort();
  }
  return 0;
}
