// The incremental UTF-8 validator against a reference written differently
// (it decodes code point values instead of walking byte ranges), on the
// Autobahn 6.x sequences, on adversarial and random input, whole and split.
#include "ws/utf8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace parley::ws {
namespace {

// Reference: is `s` a prefix of some valid UTF-8 string? A trailing incomplete
// sequence is viable if some completion of it encodes a scalar value that is
// neither overlong, a surrogate, nor above U+10FFFF.
bool ref_is_viable_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<uint8_t>(s[i]);
    int len;
    uint32_t value;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      len = 2, value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3, value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4, value = lead & 0x07;
    } else {
      return false;  // continuation byte without lead, or 5/6-byte form, FE, FF
    }
    int have = 1;
    while (have < len && i + have < s.size()) {
      const auto c = static_cast<uint8_t>(s[i + have]);
      if ((c & 0xC0) != 0x80) return false;
      value = (value << 6) | (c & 0x3F);
      ++have;
    }
    const int missing_bits = 6 * (len - have);
    const uint32_t lo = value << missing_bits;
    const uint32_t hi = lo | ((1u << missing_bits) - 1);
    const uint32_t min_for_len = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    const uint32_t a = std::max(lo, min_for_len);
    const uint32_t b = std::min(hi, 0x10FFFFu);
    if (a > b) return false;
    if (a >= 0xD800 && b <= 0xDFFF) return false;
    if (have < len) return true;  // incomplete but completable
    if (value >= 0xD800 && value <= 0xDFFF) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

bool ref_ends_on_boundary(std::string_view s) {
  // Valid prefix that does not end inside a sequence.
  std::size_t i = s.size();
  int back = 0;
  while (i > 0 && back < 4 && (static_cast<uint8_t>(s[i - 1]) & 0xC0) == 0x80) --i, ++back;
  if (i == 0) return back == 0;
  const auto lead = static_cast<uint8_t>(s[i - 1]);
  const int len = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
  return len == back + 1;
}

bool ref_is_valid(std::string_view s) {
  return ref_is_viable_prefix(s) && ref_ends_on_boundary(s);
}

// Index of the byte at which the validator, fed one byte at a time, first fails.
std::optional<std::size_t> fail_position(std::string_view s) {
  Utf8Validator v;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(s.substr(i, 1))) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> ref_fail_position(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!ref_is_viable_prefix(s.substr(0, i + 1))) return i;
  }
  return std::nullopt;
}

// Checks whole-buffer, byte-by-byte and split validation all agree with the reference.
void expect_agrees_with_reference(std::string_view s, std::mt19937& rng) {
  const bool valid = ref_is_valid(s);
  EXPECT_EQ(is_valid_utf8(s), valid) << testing::PrintToString(std::string(s));
  EXPECT_EQ(fail_position(s), ref_fail_position(s)) << testing::PrintToString(std::string(s));
  Utf8Validator v;
  std::size_t pos = 0;
  bool ok = true;
  while (pos < s.size() && ok) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 17, s.size() - pos);
    ok = v.feed(s.substr(pos, n));
    pos += n;
  }
  EXPECT_EQ(ok && v.complete(), valid) << testing::PrintToString(std::string(s));
}

TEST(Utf8, ValidText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(
      is_valid_utf8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
  EXPECT_TRUE(is_valid_utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε (6.2)
  EXPECT_TRUE(is_valid_utf8(std::string(1, '\0')));
}

TEST(Utf8, BoundaryCodePoints) {
  // Autobahn 6.5-6.7, 6.22, 6.23: first/last of each length, noncharacters, U+FFFD.
  for (std::string_view s :
       {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xef\xbf\xbe",
        "\xf0\x9f\xbf\xbe", "\xf3\xbf\xbf\xbf", "\x7f"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << testing::PrintToString(std::string(s));
  }
}

TEST(Utf8, InvalidSequencesFailAtTheFirstImpossibleByte) {
  struct Case {
    std::string_view bytes;
    std::size_t fails_at;
  };
  const Case cases[] = {
      {"\xf4\x90\x80\x80", 1},          // above U+10FFFF: F4 90 is already impossible
      {"\xed\xa0\x80", 1},              // surrogate D800 (6.19-6.21)
      {"\xed\xbf\xbf", 1},              // surrogate DFFF
      {"\xed\xa0\x80\xed\xb0\x80", 1},  // surrogate pair
      {"\xc0\xaf", 0},                  // overlong '/' (6.17)
      {"\xc1\xbf", 0},                  // maximal overlong 2-byte (6.18)
      {"\xe0\x80\xaf", 1},              // overlong 3-byte
      {"\xe0\x9f\xbf", 1},              // maximal overlong 3-byte
      {"\xf0\x80\x80\xaf", 1},          // overlong 4-byte
      {"\xf0\x8f\xbf\xbf", 1},          // maximal overlong 4-byte
      {"\xf5\x80\x80\x80", 0},          // lead above F4
      {"\xf8\x88\x80\x80\x80", 0},      // 5-byte form (6.8)
      {"\xfc\x84\x80\x80\x80\x80", 0},  // 6-byte form
      {"\xfe", 0},                      // impossible bytes (6.16)
      {"\xff", 0},
      {"\x80", 0},  // lone continuation (6.12)
      {"\xbf", 0},
      {"ab\x80\xbf", 2},
      {"\xc2\x41", 1},  // lonely start followed by ASCII (6.13)
      {"\xe1\x80\x41", 2},
      {"\xf1\x80\x80\x41", 3},
      {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
       "edited",
       12},                                                                  // 6.3
      {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", 12},  // 6.4
  };
  for (const Case& c : cases) {
    EXPECT_EQ(fail_position(c.bytes), c.fails_at) << testing::PrintToString(std::string(c.bytes));
    EXPECT_FALSE(is_valid_utf8(c.bytes));
  }
}

TEST(Utf8, TruncatedSequencesAreIncompleteNotFailed) {
  // Autobahn 6.14: valid prefixes with their last continuation bytes missing.
  for (std::string_view s : {"\xc2", "\xe0\xa0", "\xe1", "\xf0\x90\x80", "\xf4\x8f", "\xf1"}) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s)) << testing::PrintToString(std::string(s));
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(is_valid_utf8(s));
  }
}

TEST(Utf8, StaysFailedAndResets) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xff"));
  EXPECT_FALSE(v.feed("abc"));
  EXPECT_TRUE(v.failed());
  v.reset();
  EXPECT_TRUE(v.feed("abc"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, EverySequenceOfUpToThreeBytesAgreesWithReference) {
  std::mt19937 rng(7);
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    expect_agrees_with_reference(s, rng);
    for (int b = 0x70; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(is_valid_utf8(s), ref_is_valid(s)) << a << " " << b;
      ASSERT_EQ(fail_position(s), ref_fail_position(s)) << a << " " << b;
    }
  }
  // Three bytes for every lead byte with interesting continuation bytes.
  for (int a = 0xC0; a < 256; ++a) {
    for (int b : {0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0}) {
      for (int c : {0x41, 0x80, 0xBF, 0xC0}) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(fail_position(s), ref_fail_position(s)) << a << " " << b << " " << c;
        ASSERT_EQ(is_valid_utf8(s), ref_is_valid(s));
      }
    }
  }
}

TEST(Utf8, RandomInputAgreesWithReference) {
  std::mt19937 rng(12345);
  // Bytes biased towards the interesting ones, in long ASCII runs too so the
  // 8-byte fast path is crossed at every alignment.
  const uint8_t interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                                 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFC, 0xFE, 0xFF};
  const std::string_view valid_pieces[] = {"a",
                                           "hello world",
                                           "\xc2\xb5",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80",
                                           "\xf4\x8f\xbf\xbf",
                                           "\xed\x9f\xbf",
                                           "0123456789abcdef"};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const int pieces = 1 + static_cast<int>(rng() % 12);
    for (int p = 0; p < pieces; ++p) {
      switch (rng() % 3) {
        case 0:
          s += valid_pieces[rng() % std::size(valid_pieces)];
          break;
        case 1:
          s += static_cast<char>(interesting[rng() % std::size(interesting)]);
          break;
        default:
          s += static_cast<char>(rng() % 256);
          break;
      }
    }
    expect_agrees_with_reference(s, rng);
    if (HasFailure()) return;
  }
}

TEST(Utf8, LongValidTextSplitAnywhere) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "ascii run \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xf0\x9f\x98\x80";
  ASSERT_TRUE(is_valid_utf8(text));
  for (std::size_t cut = 0; cut < 64; ++cut) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(std::string_view(text).substr(0, cut)));
    EXPECT_TRUE(v.feed(std::string_view(text).substr(cut)));
    EXPECT_TRUE(v.complete());
  }
}

TEST(Utf8, TruncateKeepsWholeCodePoints) {
  EXPECT_EQ(truncate_utf8("hello", 10), "hello");
  EXPECT_EQ(truncate_utf8("hello", 3), "hel");
  EXPECT_EQ(truncate_utf8("ab\xe2\x82\xac", 4), "ab");
  EXPECT_EQ(truncate_utf8("ab\xe2\x82\xac", 5), "ab\xe2\x82\xac");
  EXPECT_EQ(truncate_utf8("ab\xf0\x9f\x98\x80z", 5), "ab");
  EXPECT_EQ(truncate_utf8("ab\xf0\x9f\x98\x80z", 6), "ab\xf0\x9f\x98\x80");
  EXPECT_EQ(truncate_utf8("\xc2\xb5", 1), "");
}

}  // namespace
}  // namespace parley::ws
