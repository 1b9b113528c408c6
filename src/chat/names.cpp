// The rules for display names (docs/PROTOCOL.md "Names"; declared in
// chat/client_message.h).
#include <array>
#include <string>

#include "chat/client_message.h"
#include "text/unicode.h"

namespace parley::chat {
namespace {

// --- Names (see normalize_name) ---
constexpr std::size_t kMaxRawNameBytes = 1024;  // NFD of 32 code points fits many times over
constexpr std::size_t kMaxMarksInARow = 4;

Error invalid_name(std::string message) {
  return Error{Errc::Invalid, std::move(message)};
}

bool is_variation_selector(char32_t c) {
  return (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef) ||
         (c >= 0x180b && c <= 0x180d) || c == 0x180f;
}

bool is_visible(const unicode::CodePoint& cp) {
  using unicode::Class;
  return cp.cls == Class::Letter || cp.cls == Class::Number || cp.cls == Class::Punctuation ||
         cp.cls == Class::Symbol;
}

// Zero-width joiners and non-joiners have two legitimate uses in a name: after
// a virama they select the form of an Indic conjunct (RFC 5892 appendix A.1,
// A.2), and a joiner between pictographs builds one emoji (UTS #51: 👨‍👩‍👧).
// Anywhere else they only hide a difference ("ad\u200dmin").
bool joiner_allowed(const unicode::CodePoint* prev, const unicode::CodePoint* next, bool zwj) {
  if (prev == nullptr) return false;
  if (prev->virama) return true;
  if (!zwj || next == nullptr || !next->pictographic) return false;
  // The emoji before may end in a skin tone modifier or a variation selector.
  return prev->pictographic || (prev->value >= 0x1f3fb && prev->value <= 0x1f3ff) ||
         prev->value == 0xfe0f;
}

// Which rule a code point breaks, given its neighbours; "" when it breaks none.
std::string_view name_char_problem(const unicode::CodePoint* prev, const unicode::CodePoint& cp,
                                   const unicode::CodePoint* next) {
  using unicode::Class;
  if (cp.value == 0x200d || cp.value == 0x200c) {
    return joiner_allowed(prev, next, cp.value == 0x200d)
               ? ""
               : "names cannot hold zero-width characters outside an emoji or a conjunct";
  }
  if (is_variation_selector(cp.value)) {
    return prev != nullptr && is_visible(*prev) ? ""
                                                : "a variation selector must follow a character";
  }
  switch (cp.cls) {
    case Class::Control:
      return "names cannot hold control characters";
    case Class::LineBreak:
      return "names cannot hold line breaks";
    case Class::Format:
      return "names cannot hold invisible formatting characters (zero-width, bidi controls)";
    case Class::Other:
      return "names cannot hold private-use, unassigned or noncharacter code points";
    default:
      break;
  }
  if (cp.ignorable) return "names cannot hold invisible characters";
  if (cp.cls == Class::Mark && prev == nullptr) return "a name cannot start with a combining mark";
  return "";
}

// The rules of normalize_name on a normalized, trimmed name.
Status check_name(std::string_view name) {
  std::array<unicode::CodePoint, kMaxNameCodePoints + 1> cps;
  std::size_t n = 0;
  unicode::for_each_code_point(name, [&](const unicode::CodePoint& cp) {
    cps[n++] = cp;
    return n < cps.size();
  });
  if (n == 0) return invalid_name("a name needs a visible character");
  if (n > kMaxNameCodePoints) return invalid_name("names are at most 32 characters");
  bool visible = false;
  std::size_t marks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unicode::CodePoint* prev = i > 0 ? &cps[i - 1] : nullptr;
    const unicode::CodePoint* next = i + 1 < n ? &cps[i + 1] : nullptr;
    const std::string_view problem = name_char_problem(prev, cps[i], next);
    if (!problem.empty()) return invalid_name(std::string(problem));
    marks = cps[i].cls == unicode::Class::Mark ? marks + 1 : 0;
    if (marks > kMaxMarksInARow) return invalid_name("too many combining marks on one character");
    visible = visible || is_visible(cps[i]);
  }
  if (!visible) return invalid_name("a name needs a visible character");
  return {};
}

}  // namespace

Result<std::string> normalize_name(std::string_view raw) {
  if (raw.size() > kMaxRawNameBytes) return invalid_name("names are at most 32 characters");
  Result<std::string> nfc = unicode::to_nfc(raw);
  if (!nfc) {
    if (nfc.error().code != Errc::Invalid) return std::move(nfc).error();
    return invalid_name("names must be valid UTF-8 of assigned characters (" + nfc.error().message +
                        ")");
  }
  const std::string_view name = unicode::trim_white_space(*nfc);
  if (Status s = check_name(name); !s) return s.error();
  return std::string(name);
}

bool is_valid_name(std::string_view name) {
  Result<std::string> normalized = normalize_name(name);
  return normalized && *normalized == name;
}

}  // namespace parley::chat
