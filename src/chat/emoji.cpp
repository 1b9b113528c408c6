#include "chat/emoji.h"

#include <string>

#include "text/unicode.h"

namespace parley::chat {
namespace {

bool is_regional_indicator(char32_t c) {
  return c >= 0x1f1e6 && c <= 0x1f1ff;
}
bool is_tag(char32_t c) {
  return c >= 0xe0020 && c <= 0xe007f;  // subdivision flags: 🏴 + tags + cancel tag
}
bool is_variation_selector(char32_t c) {
  return c >= 0xfe00 && c <= 0xfe0f;
}
constexpr char32_t kZeroWidthJoiner = 0x200d;
constexpr char32_t kCombiningKeycap = 0x20e3;

// Whether one code point of an emoji sequence is allowed; "" when it is.
std::string_view problem_with(const unicode::CodePoint& cp) {
  using unicode::Class;
  const char32_t c = cp.value;
  if (cp.pictographic || c == kZeroWidthJoiner || is_variation_selector(c) || is_tag(c)) return "";
  if (cp.white_space || cp.cls == Class::Control || cp.cls == Class::LineBreak) {
    return "an emoji holds no white space or control characters";
  }
  if (cp.cls == Class::Format || cp.ignorable) return "an emoji holds no invisible characters";
  if (cp.cls == Class::Other) return "an emoji holds no private-use or unassigned characters";
  return "";
}

}  // namespace

Status check_emoji(std::string_view emoji) {
  if (emoji.empty()) return Error{Errc::Invalid, "`emoji` is empty"};
  if (emoji.size() > kMaxEmojiBytes) {
    return Error{Errc::Invalid, "an emoji is at most " + std::to_string(kMaxEmojiBytes) + " bytes"};
  }
  std::string_view problem;
  bool has_emoji = false;
  std::size_t regional_indicators = 0;
  const bool utf8 = unicode::for_each_code_point(emoji, [&](const unicode::CodePoint& cp) {
    problem = problem_with(cp);
    regional_indicators += is_regional_indicator(cp.value) ? 1 : 0;
    has_emoji = has_emoji || cp.pictographic || cp.value == kCombiningKeycap;
    return problem.empty();
  });
  // A flag is a pair of regional indicators; one alone is a letter in a box.
  if (regional_indicators == 2) has_emoji = true;
  if (regional_indicators != 0 && regional_indicators != 2) {
    return Error{Errc::Invalid, "a flag is two regional indicators"};
  }
  if (!utf8) return Error{Errc::Invalid, "an emoji must be valid UTF-8"};
  if (!problem.empty()) return Error{Errc::Invalid, std::string(problem)};
  if (!has_emoji) return Error{Errc::Invalid, "`emoji` holds no emoji"};
  if (!unicode::is_one_grapheme(emoji)) return Error{Errc::Invalid, "`emoji` is one emoji"};
  return {};
}

}  // namespace parley::chat
