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
#include <vector>

#include "ws/utf8_reference.h"

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

// --- Every kernel against the simple validator ------------------------------
//
// detail::utf8_impls() lists the kernels this CPU runs (scalar, sse2, ssse3,
// avx2); Utf8Validator uses the last. Each must agree with Utf8Reference (the
// byte-at-a-time DFA) on validity, completeness and the exact failing byte,
// however the input is split.

struct Outcome {
  std::optional<std::size_t> fails_at;  // index of the byte at which it failed
  bool complete = false;
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << (o.fails_at ? "fails at " + std::to_string(*o.fails_at)
                     : std::string(o.complete ? "complete" : "incomplete"));
}

// Feeds s[cuts[i], cuts[i + 1]) in turn (cuts start at 0 and end at s.size()).
Outcome run_kernel(detail::Utf8Kernel kernel, std::string_view s,
                   const std::vector<std::size_t>& cuts) {
  uint8_t state = detail::kUtf8Accept;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const std::string_view piece = s.substr(cuts[i], cuts[i + 1] - cuts[i]);
    const std::size_t consumed = kernel(state, piece);
    if (state == detail::kUtf8Reject) {
      EXPECT_LT(consumed, piece.size());
      EXPECT_EQ(kernel(state, "a"), 0u);  // stays failed
      EXPECT_EQ(state, detail::kUtf8Reject);
      return {cuts[i] + consumed, false};
    }
    EXPECT_EQ(consumed, piece.size());
  }
  return {std::nullopt, state == detail::kUtf8Accept};
}

Outcome run_reference(std::string_view s, const std::vector<std::size_t>& cuts) {
  detail::Utf8Reference v;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const std::size_t consumed = v.feed(s.substr(cuts[i], cuts[i + 1] - cuts[i]));
    if (v.failed()) return {cuts[i] + consumed, false};
  }
  return {std::nullopt, v.complete()};
}

std::vector<std::size_t> whole(std::string_view s) {
  return {0, s.size()};
}

std::vector<std::size_t> random_cuts(std::string_view s, std::mt19937& rng, std::size_t max_piece) {
  std::vector<std::size_t> cuts{0};
  while (cuts.back() < s.size())
    cuts.push_back(std::min(s.size(), cuts.back() + rng() % (max_piece + 1)));
  return cuts;
}

enum class Splits {
  kFew,       // whole, and in random pieces of up to 40 bytes (1/32 of the input if longer)
  kRandom,    // and in random pieces of up to 3 bytes
  kEveryCut,  // and cut in two at every position, and byte by byte
};

// Checks every kernel against the reference on `s`, whole and split.
void expect_kernels_agree(std::string_view s, std::mt19937& rng, Splits splits = Splits::kRandom) {
  const Outcome expected = run_reference(s, whole(s));
  std::vector<std::vector<std::size_t>> cut_sets = {
      whole(s), random_cuts(s, rng, std::max<std::size_t>(40, s.size() / 32))};
  if (splits != Splits::kFew) cut_sets.push_back(random_cuts(s, rng, 3));
  if (splits == Splits::kEveryCut) {
    for (std::size_t cut = 1; cut < s.size(); ++cut) cut_sets.push_back({0, cut, s.size()});
    cut_sets.push_back(random_cuts(s, rng, 1));
  }
  for (const auto& cuts : cut_sets) {
    ASSERT_EQ(run_reference(s, cuts), expected) << testing::PrintToString(std::string(s));
    for (const auto& impl : detail::utf8_impls()) {
      ASSERT_EQ(run_kernel(impl.fn, s, cuts), expected)
          << impl.name << " " << cuts.size() - 1 << " pieces, "
          << testing::PrintToString(std::string(s));
    }
  }
}

std::string encode(uint32_t cp) {
  std::string out;
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
  return out;
}

// A random scalar value encoded in `len` bytes (1..4), boundaries favoured.
std::string random_char(std::mt19937& rng, int len) {
  static constexpr uint32_t kLo[] = {0, 0, 0x80, 0x800, 0x10000};
  static constexpr uint32_t kHi[] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  uint32_t cp;
  do {
    switch (rng() % 4) {
      case 0:
        cp = kLo[len];
        break;
      case 1:
        cp = kHi[len];
        break;
      default:
        cp = kLo[len] + rng() % (kHi[len] - kLo[len] + 1);
    }
  } while (cp >= 0xD800 && cp <= 0xDFFF);
  return encode(cp);
}

enum class Filler { kAscii, kTwo, kThree, kFour, kMixed };
constexpr Filler kFillers[] = {Filler::kAscii, Filler::kTwo, Filler::kThree, Filler::kFour,
                               Filler::kMixed};

// Valid text of exactly `n` bytes; multibyte fillers are topped up at the
// start with ASCII, so the text ends on a character of the filler's kind.
std::string valid_text(std::mt19937& rng, std::size_t n, Filler filler) {
  std::string chars;
  while (true) {
    const int len =
        filler == Filler::kMixed ? 1 + static_cast<int>(rng() % 4) : static_cast<int>(filler) + 1;
    std::string c = random_char(rng, len);
    if (chars.size() + c.size() > n) break;
    chars += c;
  }
  return std::string(n - chars.size(), 'a') + chars;
}

// Sequences that make the input invalid, each at a known byte.
constexpr std::string_view kBadSequences[] = {
    "\xed\xa0\x80",          // surrogate D800
    "\xed\xbf\xbf",          // surrogate DFFF
    "\xc0\xaf",              // overlong '/'
    "\xc1\xbf",              // overlong 2-byte
    "\xe0\x80\xaf",          // overlong 3-byte
    "\xe0\x9f\xbf",          // overlong 3-byte, maximal
    "\xf0\x80\x80\xaf",      // overlong 4-byte
    "\xf0\x8f\xbf\xbf",      // overlong 4-byte, maximal
    "\xf4\x90\x80\x80",      // above U+10FFFF
    "\xf5\x80\x80\x80",      // lead above F4
    "\xf8\x88\x80\x80\x80",  // 5-byte form
    "\xfe",
    "\xff",
    "\x80",  // lone continuation
    "\xbf",
    "\xc2\x80\x80",      // one continuation too many
    "\xe2\x82\xac\xbf",  // continuation after a complete 3-byte sequence
    "\xc2",              // truncated: what follows is not a continuation
    "\xe1\x80",
    "\xf1\x80\x80",
    "\xf4\x8f\xbf",
};

TEST(Utf8Kernels, ListsWhatTheCpuRuns) {
  const auto impls = detail::utf8_impls();
  ASSERT_FALSE(impls.empty());
  EXPECT_STREQ(impls.front().name, "scalar");
#if defined(__x86_64__)
  __builtin_cpu_init();
  EXPECT_EQ(std::string_view(impls.back().name) == "avx2", __builtin_cpu_supports("avx2") != 0);
#endif
  for (const auto& impl : impls) {
    uint8_t state = detail::kUtf8Accept;
    EXPECT_EQ(impl.fn(state, ""), 0u) << impl.name;
    EXPECT_EQ(state, detail::kUtf8Accept);
  }
}

TEST(Utf8Kernels, ReferenceAgreesWithTheDecodingReference) {
  std::mt19937 rng(99);
  for (int round = 0; round < 3000; ++round) {
    std::string s = valid_text(rng, rng() % 40, kFillers[rng() % 5]);
    if (rng() % 2)
      s.insert(rng() % (s.size() + 1), kBadSequences[rng() % std::size(kBadSequences)]);
    if (rng() % 3 == 0 && !s.empty()) s.pop_back();
    const Outcome o = run_reference(s, whole(s));
    ASSERT_EQ(o.fails_at, ref_fail_position(s)) << testing::PrintToString(s);
    ASSERT_EQ(!o.fails_at && o.complete, ref_is_valid(s)) << testing::PrintToString(s);
  }
}

TEST(Utf8Kernels, ValidTextOfEveryKindAndLengthSplitAnywhere) {
  std::mt19937 rng(1);
  for (Filler filler : kFillers) {
    for (std::size_t n = 0; n <= 100; ++n) {
      const std::string s = valid_text(rng, n, filler);
      ASSERT_TRUE(ref_is_valid(s));
      expect_kernels_agree(s, rng, n <= 70 ? Splits::kEveryCut : Splits::kRandom);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(Utf8Kernels, BadSequencesAtEveryPositionAroundChunkBoundaries) {
  // The SIMD kernels check 16- and 32-byte chunks that start on a code point
  // boundary and give back a sequence cut off at a chunk's end: put each bad
  // sequence so it starts, straddles and ends at those edges, after each kind
  // of text, followed by valid text.
  std::mt19937 rng(2);
  for (Filler filler : kFillers) {
    for (std::size_t at = 0; at <= 100; ++at) {
      for (std::string_view bad : kBadSequences) {
        std::string s = valid_text(rng, at, filler);
        s += bad;
        s += valid_text(rng, 40 + rng() % 40, kFillers[rng() % 5]);
        const bool at_edge = at == 15 || at == 16 || at == 31 || at == 32;
        expect_kernels_agree(s, rng, at_edge ? Splits::kEveryCut : Splits::kFew);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(Utf8Kernels, AsciiRunsOfEveryLengthThenASequence) {
  // The SIMD kernels skip ASCII 64 bytes at a time; an all-ASCII block is only
  // checked against the end of the block before it. Runs of every length put
  // what follows at every offset in a block and around the skip's exits.
  std::mt19937 rng(7);
  const std::string_view after[] = {"\xe2\x82\xac", "\xed\xa0\x80",     "\xc2", "\x80",
                                    "\xf0\x9f\x98", "\xf0\x9f\x98\x80", "\xff"};
  for (std::size_t run = 0; run <= 200; ++run) {
    for (std::string_view sequence : after) {
      for (std::size_t tail : {std::size_t{0}, std::size_t{1}, 3 + rng() % 80}) {
        std::string s(run, 'a');
        s += sequence;
        s += std::string(tail, 'b');
        expect_kernels_agree(s, rng, Splits::kFew);
        // ... and after multibyte text, so the run starts mid-block.
        expect_kernels_agree(valid_text(rng, 1 + rng() % 40, Filler::kThree) + s, rng,
                             Splits::kFew);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(Utf8Kernels, TruncatedSequencesAtChunkBoundaries) {
  // Valid text that ends (or pauses between feeds) inside a sequence.
  std::mt19937 rng(3);
  for (Filler filler : kFillers) {
    for (std::size_t n = 1; n <= 100; ++n) {
      for (int len = 2; len <= 4; ++len) {
        const std::string c = random_char(rng, len);
        for (int keep = 1; keep < len; ++keep) {
          std::string s = valid_text(rng, n, filler) + c.substr(0, keep);
          expect_kernels_agree(s, rng, Splits::kRandom);
          // ... and completed by the next feed.
          s += c.substr(keep);
          expect_kernels_agree(s + valid_text(rng, 40, filler), rng, Splits::kRandom);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(Utf8Kernels, EveryThreeByteCombinationInsideChunks) {
  // Every lead byte (and each class of continuation byte) with followers from
  // every byte class, at offsets that put it at the end, across and at the
  // start of a 16- and a 32-byte chunk.
  std::mt19937 rng(4);
  const uint8_t followers[] = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                               0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
  std::vector<int> firsts = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};
  for (int a = 0xC0; a < 256; ++a) firsts.push_back(a);
  const std::string text = valid_text(rng, 40, Filler::kMixed);
  std::vector<std::string> prefixes;
  for (std::size_t at : {13u, 14u, 15u, 16u, 29u, 30u, 31u, 32u})
    prefixes.push_back(valid_text(rng, at, at % 2 ? Filler::kAscii : Filler::kThree));
  for (int a : firsts) {
    for (uint8_t b : followers) {
      for (uint8_t c : followers) {
        for (const std::string& prefix : prefixes) {
          std::string s = prefix;
          s += static_cast<char>(a);
          s += static_cast<char>(b);
          s += static_cast<char>(c);
          s += text;
          expect_kernels_agree(s, rng, Splits::kFew);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(Utf8Kernels, RandomInputAgreesWithReference) {
  std::mt19937 rng(5);
  for (int round = 0; round < 6000; ++round) {
    std::string s;
    const int pieces = 1 + static_cast<int>(rng() % 16);
    for (int p = 0; p < pieces; ++p) {
      switch (rng() % 8) {
        case 0:
          s += kBadSequences[rng() % std::size(kBadSequences)];
          break;
        case 1:
          s += static_cast<char>(rng());
          break;
        default:
          s += valid_text(rng, rng() % 48, kFillers[rng() % 5]);
      }
    }
    expect_kernels_agree(s, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(Utf8Kernels, LongTextWithOneErrorNearTheEnd) {
  std::mt19937 rng(6);
  for (Filler filler : kFillers) {
    std::string s = valid_text(rng, 64 * 1024, filler);
    expect_kernels_agree(s, rng, Splits::kFew);
    for (int round = 0; round < 10; ++round) {
      std::string bad = s;
      const std::size_t at = bad.size() - rng() % 4096;
      // Invalid wherever it lands: a lone continuation, or a truncated lead.
      bad.insert(at, rng() % 2 ? "\x80" : "\xc2z");
      expect_kernels_agree(bad, rng, Splits::kFew);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace parley::ws
