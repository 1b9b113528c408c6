#include "ws/utf8.h"

#include <vector>

#include "ws/utf8_dfa.h"

namespace parley::ws {
namespace detail {
namespace {

std::size_t utf8_scalar(uint8_t& state, std::string_view bytes) {
  return validate_dfa<skip_ascii_words>(state, bytes);
}

}  // namespace

std::span<const Utf8Impl> utf8_impls() {
  static const std::vector<Utf8Impl> impls = [] {
    std::vector<Utf8Impl> found{{"scalar", utf8_scalar}};
#ifdef PARLEY_WS_X86
    found.push_back({"sse2", utf8_sse2});
    __builtin_cpu_init();
    if (__builtin_cpu_supports("ssse3")) found.push_back({"ssse3", utf8_ssse3});
    if (__builtin_cpu_supports("avx2")) found.push_back({"avx2", utf8_avx2});
#endif
    return found;
  }();
  return impls;
}

}  // namespace detail

bool Utf8Validator::feed(std::string_view bytes) {
  static const detail::Utf8Kernel best = detail::utf8_impls().back().fn;
  if (state_ == kReject) return false;
  best(state_, bytes);
  return state_ != kReject;
}

bool is_valid_utf8(std::string_view bytes) {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t n = max_bytes;
  // Back off over continuation bytes (at most 3 in valid UTF-8) so the cut
  // falls before a lead byte.
  for (int i = 0; i < 3 && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80; ++i) --n;
  return text.substr(0, n);
}

}  // namespace parley::ws