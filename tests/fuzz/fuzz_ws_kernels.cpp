// libFuzzer target: every SIMD kernel against the simple version it replaces.
//   - masking: each kernel of detail::mask_impls() on the payload at a
//     misalignment and phase taken from the input, whole and piecewise, must
//     give mask_reference's bytes and touch nothing outside the range;
//   - UTF-8: each kernel of detail::utf8_impls(), fed the text in pieces whose
//     sizes are derived from the input, must fail on the same byte as
//     Utf8Reference fed it whole, or accept it with the same completeness.
//
// Input layout: byte 0 seeds the piece sizes and picks the text mode (bit 0:
// raw bytes, or bytes expanded into mostly valid UTF-8 so the multibyte SIMD
// paths see long valid runs with sparse errors); bytes 1-4 are the mask key,
// byte 5 the misalignment (low 5 bits) and phase (high bits); the rest is the
// payload.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws/mask.h"
#include "ws/mask_reference.h"
#include "ws/utf8.h"
#include "ws/utf8_reference.h"

namespace {

namespace detail = parley::ws::detail;

[[noreturn]] void violated(const char* kernel, const char* what) {
  std::fprintf(stderr, "kernel %s: %s\n", kernel, what);
  std::abort();
}

// Deterministic piece sizes from the seed byte.
class Pieces {
 public:
  explicit Pieces(uint8_t seed) : state_(seed * 0x9E3779B97F4A7C15ULL + 1) {
    static constexpr std::size_t kMax[] = {1, 3, 17, 64, 1000};
    max_ = kMax[(seed >> 1) % 5];
  }
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return 1 + state_ % max_;
  }

 private:
  uint64_t state_;
  std::size_t max_;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ASCII bytes stay; 80..EF plus two bytes make a code point (a surrogate
// becomes its last byte, raw); F0..FF put the next byte in raw.
std::string expand_to_utf8(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size();) {
    const auto b = static_cast<uint8_t>(in[i++]);
    if (b < 0x80) {
      out += static_cast<char>(b);
    } else if (b < 0xF0) {
      if (in.size() - i < 2) break;
      const auto x = static_cast<uint8_t>(in[i++]);
      const auto y = static_cast<uint8_t>(in[i++]);
      const uint32_t cp = ((uint32_t{b} & 0x7F) << 16 | uint32_t{x} << 8 | y) % 0x110000;
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        out += static_cast<char>(y);
      } else {
        append_utf8(out, cp);
      }
    } else if (i < in.size()) {
      out += in[i++];
    }
  }
  return out;
}

void check_mask(std::string_view payload, parley::ws::MaskKey key, std::size_t alignment,
                std::size_t phase, uint8_t seed) {
  constexpr std::size_t kGuard = 32;
  std::vector<char> original(payload.size() + alignment + kGuard);
  for (std::size_t i = 0; i < original.size(); ++i) original[i] = static_cast<char>(i * 7 + 1);
  std::memcpy(original.data() + alignment, payload.data(), payload.size());
  std::vector<char> expected = original;
  detail::mask_reference(expected.data() + alignment, payload.size(), key, phase);
  for (const auto& impl : detail::mask_impls()) {
    std::vector<char> actual = original;
    impl.fn(actual.data() + alignment, payload.size(), key, phase);
    if (actual != expected) violated(impl.name, "mask differs from the reference");
    actual = original;
    Pieces pieces(seed);
    for (std::size_t pos = 0; pos < payload.size();) {
      const std::size_t n = std::min(pieces.next(), payload.size() - pos);
      impl.fn(actual.data() + alignment + pos, n, key, phase + pos);
      pos += n;
    }
    if (actual != expected) violated(impl.name, "piecewise mask differs from the reference");
  }
}

void check_utf8(std::string_view text, uint8_t seed) {
  detail::Utf8Reference reference;
  const std::size_t consumed = reference.feed(text);
  const std::optional<std::size_t> fails_at =
      reference.failed() ? std::optional(consumed) : std::nullopt;
  if (!fails_at && consumed != text.size()) violated("reference", "stopped without failing");
  for (const auto& impl : detail::utf8_impls()) {
    for (bool split : {false, true}) {
      Pieces pieces(seed);
      uint8_t state = detail::kUtf8Accept;
      std::optional<std::size_t> failed_at;
      for (std::size_t pos = 0; pos < text.size() && !failed_at;) {
        const std::size_t n = split ? std::min(pieces.next(), text.size() - pos) : text.size();
        const std::size_t used = impl.fn(state, text.substr(pos, n));
        if (state == detail::kUtf8Reject) {
          if (used >= n) violated(impl.name, "failed past its input");
          failed_at = pos + used;
        } else if (used != n) {
          violated(impl.name, "stopped without failing");
        }
        pos += n;
      }
      if (failed_at != fails_at) violated(impl.name, "fails at a different byte");
      if (!fails_at && (state == detail::kUtf8Accept) != reference.complete())
        violated(impl.name, "completeness differs");
    }
  }
  if (parley::ws::is_valid_utf8(text) != (!fails_at && reference.complete()))
    violated("is_valid_utf8", "differs from the reference");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  const uint8_t seed = data[0];
  const parley::ws::MaskKey key = {data[1], data[2], data[3], data[4]};
  const std::size_t alignment = data[5] & 31;
  const std::size_t phase = data[5] >> 5;
  const std::string_view payload(reinterpret_cast<const char*>(data + 6), size - 6);
  check_mask(payload, key, alignment, phase, seed);
  check_utf8(seed & 1 ? expand_to_utf8(payload) : std::string(payload), seed);
  return 0;
}
