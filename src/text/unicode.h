// The Unicode facts the name and room rules need (docs/PROTOCOL.md "Names",
// "Rooms") and search's case folding, from utf8proc: normalization to NFC and
// the properties of a code point. Its own library, below chat/ and store/,
// which both use it. Debian 12's utf8proc knows Unicode 15.0; code points assigned later
// count as unassigned until it is updated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::unicode {

// General categories, grouped as the rules use them.
enum class Class : unsigned char {
  Letter,       // L*
  Mark,         // M*: combining marks
  Number,       // N*
  Punctuation,  // P*
  Symbol,       // S*: emoji are So
  Space,        // Zs
  LineBreak,    // Zl, Zp
  Control,      // Cc
  Format,       // Cf: zero-width characters, bidi controls, tags, soft hyphen...
  Other,        // Co (private use), Cn (unassigned, noncharacters), Cs
};

struct CodePoint {
  char32_t value = 0;
  Class cls = Class::Other;
  bool ignorable = false;     // Default_Ignorable_Code_Point: invisible when rendered
  bool pictographic = false;  // Extended_Pictographic: emoji and pictographs
  bool virama = false;        // canonical combining class 9 (a virama)
  bool white_space = false;   // White_Space
  unsigned char length = 0;   // bytes in UTF-8 (set by for_each_code_point)
};

CodePoint info(char32_t value);

// Calls f(CodePoint) for each code point of valid UTF-8 `text`; false (after
// calling f for none) when `text` is not valid UTF-8. Stops when f returns false.
template <class F>
bool for_each_code_point(std::string_view text, F&& f);

// `text` in Normalization Form C; Errc::Invalid when it is not valid UTF-8 or
// holds an unassigned code point or a noncharacter.
Result<std::string> to_nfc(std::string_view text);

// `text` case-folded (Unicode full case folding) and in NFC, for matching
// that ignores case; Errc::Invalid when it is not valid UTF-8. Unassigned
// code points are kept as they are.
Result<std::string> casefold(std::string_view text);

// True when `text` is valid UTF-8 of assigned code points already in NFC.
// Allocation-free for up to 256 code points (room names are at most 64);
// longer texts are answered false.
bool is_nfc(std::string_view text);

// `text` without leading and trailing White_Space code points.
std::string_view trim_white_space(std::string_view text);

// True when valid UTF-8 `text` is exactly one extended grapheme cluster
// (UAX #29): what a user sees as one character, an emoji sequence included.
bool is_one_grapheme(std::string_view text);

// Decodes one code point at the start of `text`: its length in bytes, or 0
// for invalid UTF-8 (overlong, surrogate, past U+10FFFF, cut short).
std::size_t decode(std::string_view text, char32_t& out);

template <class F>
bool for_each_code_point(std::string_view text, F&& f) {
  // Validate first so that f never sees a prefix of invalid text.
  std::size_t at = 0;
  char32_t cp = 0;
  while (at < text.size()) {
    const std::size_t n = decode(text.substr(at), cp);
    if (n == 0) return false;
    at += n;
  }
  for (at = 0; at < text.size();) {
    const std::size_t n = decode(text.substr(at), cp);
    at += n;
    CodePoint c = info(cp);
    c.length = static_cast<unsigned char>(n);
    if (!f(c)) break;
  }
  return true;
}

}  // namespace parley::unicode
