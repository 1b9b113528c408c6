// The emoji of a reaction (docs/PROTOCOL.md "Emoji"): one emoji as the user
// sees it, compared byte for byte.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.h"

namespace parley::chat {

inline constexpr std::size_t kMaxEmojiBytes = 64;

// Ok when `emoji` is one extended grapheme cluster of at most kMaxEmojiBytes
// bytes holding an emoji (an Extended_Pictographic code point, a flag made of
// regional indicators or tags, or a keycap), with no white space, control or
// invisible character but those emoji are made of (zero-width joiner,
// variation selectors, tags). Else Errc::Invalid saying which rule it breaks.
Status check_emoji(std::string_view emoji);

}  // namespace parley::chat
