// Identity hygiene (issue 7 item 9, issue 10 item 6): display names, room
// names in any script, the URL form of a room, and resume tokens that expire.
#include <gtest/gtest.h>

#include <string>

#include "chat/client_message.h"
#include "chat/identity.h"
#include "chat/room.h"

namespace parley::chat {
namespace {

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

std::string name_problem(std::string_view raw) {
  Result<std::string> name = normalize_name(raw);
  EXPECT_FALSE(name) << "accepted: " << raw;
  return name ? "" : name.error().message;
}

// --- Names --------------------------------------------------------------------------------

TEST(NameHygiene, NfdInputIsStoredAsNfc) {
  // "José" typed on a system that sends decomposed accents: e + U+0301.
  EXPECT_EQ(*normalize_name("Jose\xcc\x81"), "Jos\xc3\xa9");
  // Hangul jamo compose into one syllable: 한 = U+1112 U+1161 U+11AB.
  EXPECT_EQ(*normalize_name("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"), "\xed\x95\x9c");
  EXPECT_FALSE(is_valid_name("Jose\xcc\x81"));  // valid names are already NFC
  EXPECT_TRUE(is_valid_name("Jos\xc3\xa9"));
  // The limit counts code points after normalisation: 32 NFD "é" (64 code points) fit.
  EXPECT_EQ(*normalize_name(repeat("e\xcc\x81", 32)), repeat("\xc3\xa9", 32));
  EXPECT_FALSE(normalize_name(repeat("e\xcc\x81", 33)));
}

TEST(NameHygiene, ZeroWidthCharactersAreRefused) {
  for (const char* zw : {"\xe2\x80\x8b",  // U+200B ZERO WIDTH SPACE
                         "\xe2\x80\x8c",  // U+200C ZWNJ
                         "\xe2\x80\x8d",  // U+200D ZWJ
                         "\xe2\x81\xa0",  // U+2060 WORD JOINER
                         "\xef\xbb\xbf",  // U+FEFF BOM
                         "\xc2\xad",      // U+00AD SOFT HYPHEN
                         "\xe1\x85\x9f",  // U+115F HANGUL CHOSEONG FILLER (a "letter")
                         "\xe3\x85\xa4",  // U+3164 HANGUL FILLER
                         "\xcd\x8f"}) {   // U+034F COMBINING GRAPHEME JOINER
    EXPECT_NE(name_problem("ad" + std::string(zw) + "min"), "") << zw;
    EXPECT_FALSE(normalize_name(zw)) << zw;
  }
  EXPECT_NE(name_problem("ad\xe2\x80\x8dmin").find("zero-width"), std::string::npos);
  // A name of invisible characters only is refused too.
  EXPECT_FALSE(normalize_name("\xe3\x85\xa4\xe3\x85\xa4"));
}

TEST(NameHygiene, JoinersAreAllowedWhereScriptsAndEmojiNeedThem) {
  // 👨‍👩‍👧 (man ZWJ woman ZWJ girl) is one emoji.
  EXPECT_TRUE(
      is_valid_name("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
                    "\xf0\x9f\x91\xa7"));
  // 👩🏽‍💻: skin tone then ZWJ. ❤️‍🔥: VS16 then ZWJ.
  EXPECT_TRUE(is_valid_name("\xf0\x9f\x91\xa9\xf0\x9f\x8f\xbd\xe2\x80\x8d\xf0\x9f\x92\xbb"));
  EXPECT_TRUE(is_valid_name("\xe2\x9d\xa4\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x94\xa5"));
  // Devanagari क्‍ष: a ZWJ after the virama selects the half form (RFC 5892 A.2).
  EXPECT_TRUE(is_valid_name("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"));
  EXPECT_TRUE(is_valid_name("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7"));  // ZWNJ
  // A ZWJ dangling after an emoji, or before one after a letter, hides nothing useful.
  EXPECT_FALSE(normalize_name("\xf0\x9f\x91\xa8\xe2\x80\x8d"));
  EXPECT_FALSE(normalize_name("a\xe2\x80\x8d\xf0\x9f\x91\xa8"));
}

TEST(NameHygiene, BidiControlsAreRefused) {
  // "Bob" + RLO + "gnp.exe" would display as "Bobexe.png".
  EXPECT_NE(name_problem("Bob\xe2\x80\xaegnp.exe").find("bidi"), std::string::npos);
  for (char32_t c : {0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e,
                     0x200f, 0x061c}) {
    std::string utf8;
    if (c < 0x800) {
      utf8 = {static_cast<char>(0xc0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3f))};
    } else {
      utf8 = {static_cast<char>(0xe0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3f)),
              static_cast<char>(0x80 | (c & 0x3f))};
    }
    EXPECT_FALSE(normalize_name("a" + utf8 + "b")) << std::hex << static_cast<uint32_t>(c);
  }
  // Right-to-left scripts themselves are fine.
  EXPECT_TRUE(is_valid_name("\xd7\xa9\xd7\xa8\xd7\x94"));            // שרה
  EXPECT_TRUE(is_valid_name("\xd9\x84\xd9\x8a\xd9\x84\xd9\x89 1"));  // ليلى 1
}

TEST(NameHygiene, NoncharactersUnassignedAndPrivateUseAreRefused) {
  EXPECT_NE(name_problem("a\xef\xbf\xbe").find("assigned"), std::string::npos);  // U+FFFE
  EXPECT_FALSE(normalize_name("a\xef\xbf\xbf"));                                 // U+FFFF
  EXPECT_FALSE(normalize_name("a\xef\xb7\x90"));                                 // U+FDD0
  EXPECT_FALSE(normalize_name("a\xf4\x8f\xbf\xbf"));                             // U+10FFFF
  EXPECT_FALSE(normalize_name("a\xcd\xb8"));      // U+0378, unassigned
  EXPECT_FALSE(normalize_name("a\xee\x80\x80"));  // U+E000, private use
  EXPECT_FALSE(
      normalize_name("a\xe2\x80\xa8"
                     "b"));                      // U+2028 LINE SEPARATOR
  EXPECT_FALSE(normalize_name("\xed\xa0\x80"));  // a surrogate: not UTF-8
  // Tag characters (used by subdivision flags) are format characters.
  EXPECT_FALSE(normalize_name("a\xf3\xa0\x81\xa7"));  // U+E0067
}

TEST(NameHygiene, CombiningMarksNeedABaseAndStayFew) {
  EXPECT_NE(name_problem("\xcc\x81"
                         "abc")
                .find("combining mark"),
            std::string::npos);
  EXPECT_TRUE(is_valid_name(std::string("a") + repeat("\xcc\xb8", 4)));  // 4 marks: fine
  EXPECT_NE(name_problem(std::string("a") + repeat("\xcc\xb8", 5)).find("combining marks"),
            std::string::npos);  // "Zalgo" text
  // Vietnamese stacks two marks: ệ (NFC keeps it one code point anyway).
  EXPECT_TRUE(is_valid_name("Nguy\xe1\xbb\x85n"));
  // Keycap 1️⃣: digit, VS16, enclosing keycap.
  EXPECT_TRUE(is_valid_name("1\xef\xb8\x8f\xe2\x83\xa3"));
  EXPECT_FALSE(
      normalize_name("\xef\xb8\x8f"
                     "a"));  // a variation selector first
}

TEST(NameHygiene, EmojiAndSymbolsAreAllowed) {
  EXPECT_TRUE(is_valid_name("\xf0\x9f\x98\x80"));                  // 😀
  EXPECT_TRUE(is_valid_name("\xf0\x9f\x87\xa8\xf0\x9f\x87\xb3"));  // 🇨🇳 flag
  EXPECT_TRUE(is_valid_name("\xe2\x9c\x94 done"));                 // ✔ done
  EXPECT_TRUE(is_valid_name("<b>&amp;</b>"));
  EXPECT_TRUE(is_valid_name("-"));  // punctuation is visible
  EXPECT_NE(name_problem("\xe3\x80\x80").find("visible"), std::string::npos);
}

// --- Rooms --------------------------------------------------------------------------------

TEST(RoomHygiene, AnyScriptWithinTheRule) {
  for (const char* good :
       {"lobby", "Team_2.0-beta", "\xe6\x88\x91\xe7\x9a\x84\xe6\x88\xbf\xe9\x97\xb4", "caf\xc3\xa9",
        "\xd0\xba\xd0\xbe\xd0\xbc\xd0\xbd\xd0\xb0\xd1\x82\xd0\xb0",
        "\xd8\xba\xd8\xb1\xd9\x81\xd8\xa9", "\xe0\xa4\x95\xe0\xa4\xae\xe0\xa4\xb0\xe0\xa4\xbe",
        "\xd9\xa1\xd9\xa2\xd9\xa3", ".hidden", "a..b", "..a", "_"}) {
    EXPECT_TRUE(is_valid_room_name(good)) << good << ": " << check_room_name(good).error().message;
  }
  EXPECT_TRUE(is_valid_room_name("Lobby") && is_valid_room_name("lobby"));  // two rooms
}

TEST(RoomHygiene, RefusedNames) {
  const std::pair<std::string, std::string_view> cases[] = {
      {"", "1-64"},
      {".", "only dots"},
      {"..", "only dots"},
      {"....", "only dots"},
      {"my room", "letters, digits"},
      {"a\xe3\x80\x80"
       "b",
       "letters, digits"},  // U+3000
      {"a\xe2\x80\x8d"
       "b",
       "invisible"},  // ZWJ
      {"a\xe2\x80\xae"
       "b",
       "invisible"},  // RLO (also default-ignorable)
      {"a\xe3\x85\xa4"
       "b",
       "invisible"},                            // U+3164 HANGUL FILLER
      {"\xf0\x9f\x98\x80", "letters, digits"},  // emoji: not in room names
      {"a/b", "letters, digits"},
      {"a%2Fb", "letters, digits"},
      {"\xcc\x81"
       "a",
       "combining mark"},
      {"cafe\xcc\x81", "NFC"},               // NFD: the client must normalise
      {"a\xef\xbf\xbe", "letters, digits"},  // U+FFFE
      {"\xff", "UTF-8"},
      {std::string(65, 'r'), "at most 64"},
      {std::string(65 * 3, 'r'), "at most 64"},
  };
  for (const auto& [name, why] : cases) {
    Status s = check_room_name(name);
    ASSERT_FALSE(s) << name;
    EXPECT_NE(s.error().message.find(why), std::string::npos) << name << ": " << s.error().message;
  }
  std::string cjk65;
  for (int i = 0; i < 65; ++i) cjk65 += "\xe6\x88\xbf";
  EXPECT_FALSE(is_valid_room_name(cjk65));
}

TEST(RoomHygiene, PathSegmentsArePercentDecoded) {
  // What a browser sends for /ws/我的房间.
  EXPECT_EQ(*room_from_path_segment("%E6%88%91%E7%9A%84%E6%88%BF%E9%97%B4"),
            "\xe6\x88\x91\xe7\x9a\x84\xe6\x88\xbf\xe9\x97\xb4");
  EXPECT_EQ(*room_from_path_segment("%e6%88%91%e7%9a%84"), "\xe6\x88\x91\xe7\x9a\x84");
  EXPECT_EQ(*room_from_path_segment("lobby"), "lobby");
  EXPECT_EQ(*room_from_path_segment("caf%C3%A9"), "caf\xc3\xa9");
  // A decomposed name in a URL is normalised (there is no echo to confuse).
  EXPECT_EQ(*room_from_path_segment("cafe%CC%81"), "caf\xc3\xa9");
  for (const char* bad : {"", ".", "..", "%2E%2E", "%2e", "a%2Fb", "a%2fb", "%", "%4", "%G1",
                          "a%00b", "%FF", "%C3", "my%20room", "a+b", "%EF%BF%BE"}) {
    EXPECT_FALSE(room_from_path_segment(bad)) << bad;
  }
  EXPECT_FALSE(room_from_path_segment(std::string(5000, 'a')));
}

// --- Resume tokens ------------------------------------------------------------------------

const Identity::Clock::time_point kNow =
    Identity::Clock::time_point(std::chrono::seconds(1893456000));

TEST(ResumeToken, ProvesTheUserUntilItExpires) {
  Identity identity(std::string(32, 's'), std::chrono::hours(24));
  const std::string token = identity.token_for("u0123456789abcdef", kNow);
  EXPECT_EQ(token.rfind("u0123456789abcdef.1893542400.", 0), 0u) << token;
  EXPECT_EQ(identity.verify(token, kNow), "u0123456789abcdef");
  EXPECT_EQ(identity.verify(token, kNow + std::chrono::hours(24) - std::chrono::seconds(1)),
            "u0123456789abcdef");
  EXPECT_EQ(identity.verify(token, kNow + std::chrono::hours(24)), std::nullopt);
  // The default is 7 days; the token is short enough for `hello.resume` (128).
  Identity week(std::string(32, 's'));
  EXPECT_EQ(week.resume_ttl(), std::chrono::hours(24 * 7));
  EXPECT_TRUE(week.verify(week.token_for("u1", kNow), kNow + std::chrono::hours(24 * 7 - 1)));
  EXPECT_LE(week.token_for(std::string(64, 'u'), kNow).size(), 108u);
}

TEST(ResumeToken, EachWelcomeExtendsTheWindow) {
  Identity identity(std::string(32, 's'), std::chrono::hours(1));
  const std::string first = identity.token_for("u1", kNow);
  const std::string later = identity.token_for("u1", kNow + std::chrono::minutes(50));
  EXPECT_NE(first, later);
  EXPECT_FALSE(identity.verify(first, kNow + std::chrono::minutes(70)));
  EXPECT_EQ(identity.verify(later, kNow + std::chrono::minutes(70)), "u1");
}

TEST(ResumeToken, ForgedDamagedAndOldFormatTokensAreUnknown) {
  Identity identity(std::string(32, 's'));
  Identity other(std::string(32, 't'));
  const std::string token = identity.token_for("u1", kNow);
  EXPECT_FALSE(other.verify(token, kNow));  // another server's secret
  const std::size_t dot = token.find('.');
  const std::size_t last = token.rfind('.');
  // A later expiry or another user under the same MAC.
  EXPECT_FALSE(identity.verify("u1.9999999999" + token.substr(last), kNow));
  EXPECT_FALSE(identity.verify("u2" + token.substr(dot), kNow));
  // Leading zeros in the expiry: the same number, not the same token.
  EXPECT_FALSE(identity.verify("u1.0" + token.substr(dot + 1), kNow));
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(identity.verify(flipped, kNow));
  for (const char* bad : {"", ".", "..", "u1", "u1.", "u1..", ".1.ab", "u1.x.ab", "u1.-1.ab",
                          "u1.1234567890123.ab"}) {
    EXPECT_FALSE(identity.verify(bad, kNow)) << bad;
  }
  EXPECT_FALSE(identity.verify(std::string(65, 'u') + token.substr(dot), kNow));
  // The two-part tokens of earlier versions (user.hmac) are simply unknown:
  // the client starts as a new user.
  EXPECT_FALSE(identity.verify("u1." + std::string(64, 'a'), kNow));
}

}  // namespace
}  // namespace parley::chat
