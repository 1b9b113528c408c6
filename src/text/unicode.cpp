#include "text/unicode.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace parley::unicode {
namespace {

constexpr utf8proc_option_t kNfc =
    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_REJECTNA);
constexpr std::size_t kMaxNfcCheckCodePoints = 256;
// Canonical decomposition expands a code point to at most 4 (Unicode 15).
constexpr std::size_t kDecomposeBuffer = kMaxNfcCheckCodePoints * 4;

Class class_of(utf8proc_category_t category) {
  switch (category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return Class::Letter;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return Class::Mark;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return Class::Number;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return Class::Punctuation;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return Class::Symbol;
    case UTF8PROC_CATEGORY_ZS:
      return Class::Space;
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return Class::LineBreak;
    case UTF8PROC_CATEGORY_CC:
      return Class::Control;
    case UTF8PROC_CATEGORY_CF:
      return Class::Format;
    default:
      return Class::Other;
  }
}

// White_Space (PropList.txt) is Zs, Zl, Zp and these controls.
bool is_white_space_control(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x85;
}

}  // namespace

CodePoint info(char32_t value) {
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(value));
  CodePoint cp;
  cp.value = value;
  cp.cls = class_of(static_cast<utf8proc_category_t>(p->category));
  cp.ignorable = p->ignorable != 0;
  cp.pictographic = p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;
  cp.virama = p->combining_class == 9;
  cp.white_space =
      cp.cls == Class::Space || cp.cls == Class::LineBreak || is_white_space_control(value);
  return cp;
}

std::size_t decode(std::string_view text, char32_t& out) {
  utf8proc_int32_t cp = 0;
  const utf8proc_ssize_t n =
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                       static_cast<utf8proc_ssize_t>(text.size()), &cp);
  if (n <= 0 || cp < 0) return 0;
  out = static_cast<char32_t>(cp);
  return static_cast<std::size_t>(n);
}

Result<std::string> to_nfc(std::string_view text) {
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &out, kNfc);
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, std::free);
  if (n == UTF8PROC_ERROR_NOTASSIGNED) {
    return Error{Errc::Invalid, "unassigned code point or noncharacter"};
  }
  if (n == UTF8PROC_ERROR_NOMEM) return Error{Errc::Internal, "out of memory"};
  if (n < 0) return Error{Errc::Invalid, "not valid UTF-8"};
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

Result<std::string> casefold(std::string_view text) {
  constexpr auto kFold =
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &out, kFold);
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, std::free);
  if (n == UTF8PROC_ERROR_NOMEM) return Error{Errc::Internal, "out of memory"};
  if (n < 0) return Error{Errc::Invalid, "not valid UTF-8"};
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string_view trim_white_space(std::string_view text) {
  std::size_t begin = std::string_view::npos;
  std::size_t end = 0;
  std::size_t at = 0;
  for_each_code_point(text, [&](const CodePoint& cp) {
    const std::size_t next = at + cp.length;
    if (!cp.white_space) {
      if (begin == std::string_view::npos) begin = at;
      end = next;
    }
    at = next;
    return true;
  });
  return begin == std::string_view::npos ? std::string_view() : text.substr(begin, end - begin);
}

bool is_one_grapheme(std::string_view text) {
  utf8proc_int32_t state = 0;
  char32_t prev = 0;
  std::size_t count = 0;
  bool one = true;
  const bool utf8 = for_each_code_point(text, [&](const CodePoint& cp) {
    if (count++ > 0 &&
        utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                         static_cast<utf8proc_int32_t>(cp.value), &state)) {
      one = false;
    }
    prev = cp.value;
    return one;
  });
  return utf8 && count > 0 && one;
}

bool is_nfc(std::string_view text) {
  std::array<utf8proc_int32_t, kDecomposeBuffer> buffer;
  const utf8proc_ssize_t n =
      utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                         static_cast<utf8proc_ssize_t>(text.size()), buffer.data(),
                         static_cast<utf8proc_ssize_t>(buffer.size()), kNfc);
  if (n < 0 || static_cast<std::size_t>(n) > buffer.size()) return false;
  const utf8proc_ssize_t composed = utf8proc_normalize_utf32(buffer.data(), n, kNfc);
  if (composed < 0) return false;
  // NFC(text) == text, compared code point by code point.
  std::size_t at = 0;
  for (utf8proc_ssize_t i = 0; i < composed; ++i) {
    char32_t cp = 0;
    const std::size_t len = at < text.size() ? decode(text.substr(at), cp) : 0;
    if (len == 0 || cp != static_cast<char32_t>(buffer[static_cast<std::size_t>(i)])) return false;
    at += len;
  }
  return at == text.size();
}

}  // namespace parley::unicode
