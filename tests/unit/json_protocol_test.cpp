// The parley.v1 codec: parse_client_message (every type, every error the
// parser can produce, the field rules at their edges) and the encoders, whose
// output is read back with simdjson and compared field by field.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "chat/client_message.h"
#include "chat/emoji.h"
#include "chat/json_protocol.h"
#include "chat/server_event.h"

namespace parley::chat {
namespace {

using simdjson::dom::element;

ParseResult parse(std::string_view json, const ParseLimits& limits = {}) {
  return parse_client_message(json, limits);
}

template <typename T>
T parse_as(std::string_view json, const ParseLimits& limits = {}) {
  ParseResult result = parse(json, limits);
  if (const auto* error = std::get_if<ParseError>(&result)) {
    ADD_FAILURE() << json << " -> " << error_code_name(error->code) << ": " << error->message;
    return T{};
  }
  const auto& message = std::get<ClientMessage>(result);
  if (!std::holds_alternative<T>(message)) {
    ADD_FAILURE() << json << " parsed as " << type_name(message) << ", expected " << T::kType;
    return T{};
  }
  return std::get<T>(message);
}

ParseError parse_error(std::string_view json, const ParseLimits& limits = {}) {
  ParseResult result = parse(json, limits);
  if (const auto* error = std::get_if<ParseError>(&result)) return *error;
  ADD_FAILURE() << json << " parsed as " << type_name(std::get<ClientMessage>(result));
  return ParseError{};
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A JSON string literal for `s` built by hand, independent of the encoder.
std::string string_literal(std::string_view s) {
  return '"' + std::string(s) + '"';
}

// Reads encoder output back. The parser is kept alive by the fixture so the
// elements stay valid for the whole test.
class Decoded {
 public:
  explicit Decoded(const std::string& json) {
    const auto error = parser_.parse(json).get(root_);
    EXPECT_FALSE(error) << simdjson::error_message(error) << " in " << json;
  }
  element root() const { return root_; }
  element operator[](std::string_view key) const { return at(root_, key); }

  static element at(element object, std::string_view key) {
    element value;
    EXPECT_FALSE(object[key].get(value)) << "missing " << key;
    return value;
  }
  static std::string str(element e) {
    std::string_view s;
    EXPECT_FALSE(e.get(s));
    return std::string(s);
  }
  static uint64_t u64(element e) {
    uint64_t n = 0;
    EXPECT_FALSE(e.get(n));
    return n;
  }
  static int64_t i64(element e) {
    int64_t n = 0;
    EXPECT_FALSE(e.get(n));
    return n;
  }
  static bool boolean(element e) {
    bool b = false;
    EXPECT_FALSE(e.get(b));
    return b;
  }
  static bool has(element object, std::string_view key) {
    element ignored;
    return !object[key].get(ignored);
  }

 private:
  simdjson::dom::parser parser_;
  element root_;
};

// --- Client messages: one test per type -------------------------------------------------------

TEST(ParseClientMessage, Hello) {
  const Hello hello = parse_as<Hello>(R"({"type":"hello","name":"alice","resume":"tok-123"})");
  EXPECT_EQ(hello.name, "alice");
  EXPECT_EQ(hello.resume, "tok-123");
  EXPECT_EQ(parse_as<Hello>(R"({"type":"hello","name":"bob"})").resume, "");
  EXPECT_EQ(parse_as<Hello>(R"({"type":"hello","name":"bob","resume":null})").resume, "");
}

TEST(ParseClientMessage, HelloNameIsTrimmed) {
  EXPECT_EQ(parse_as<Hello>(R"({"type":"hello","name":"  alice \t\n"})").name, "alice");
}

TEST(ParseClientMessage, HelloResumeMustLookLikeAToken) {
  EXPECT_EQ(parse_error(R"({"type":"hello","name":"a","resume":7})").code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(R"({"type":"hello","name":"a","resume":"a b"})").code,
            ErrorCode::BadMessage);
  const std::string longest = repeat("x", 128);
  EXPECT_EQ(
      parse_as<Hello>(R"({"type":"hello","name":"a","resume":)" + string_literal(longest) + "}")
          .resume,
      longest);
  EXPECT_EQ(
      parse_error(R"({"type":"hello","name":"a","resume":)" + string_literal(longest + "x") + "}")
          .code,
      ErrorCode::BadMessage);
}

TEST(ParseClientMessage, Join) {
  const Join join = parse_as<Join>(R"({"type":"join","room":"lobby","since":123})");
  EXPECT_EQ(join.room, "lobby");
  EXPECT_EQ(join.since, 123u);
  EXPECT_EQ(parse_as<Join>(R"({"type":"join","room":"lobby"})").since, std::nullopt);
  EXPECT_EQ(parse_as<Join>(R"({"type":"join","room":"lobby","since":null})").since, std::nullopt);
  EXPECT_EQ(parse_as<Join>(R"({"type":"join","room":"lobby","since":0})").since, 0u);
}

TEST(ParseClientMessage, SinceIsAnIntegerFromZeroTo2Pow53) {
  EXPECT_EQ(parse_as<Join>(R"({"type":"join","room":"r","since":9007199254740992})").since,
            kMaxSafeInteger);
  for (const char* since : {"9007199254740993", "18446744073709551615", "-1", "1.5", "1.0", "1e2",
                            "\"5\"", "true", "[]", "{}", "123456789012345678901234567890"}) {
    const std::string json = std::string(R"({"type":"join","room":"r","since":)") + since + "}";
    const ParseError error = parse_error(json);
    // A number too large for simdjson at all is a JSON error; every other is a field error.
    const ErrorCode expected =
        std::string_view(since).size() > 25 ? ErrorCode::BadJson : ErrorCode::BadMessage;
    EXPECT_EQ(error.code, expected) << since;
  }
}

TEST(ParseClientMessage, Leave) {
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"a.b_c-D9"})").room, "a.b_c-D9");
}

TEST(ParseClientMessage, Send) {
  const Send send = parse_as<Send>(R"({"type":"send","room":"lobby","id":"c-17","text":"hi"})");
  EXPECT_EQ(send.room, "lobby");
  EXPECT_EQ(send.id, "c-17");
  EXPECT_EQ(send.text, "hi");
}

TEST(ParseClientMessage, SendTextIsUnescaped) {
  const Send send = parse_as<Send>(
      R"({"type":"send","room":"r","id":"1","text":"a\"b\\c\nd\u0000e\u4e2d\ud83d\ude00"})");
  EXPECT_EQ(send.text, std::string("a\"b\\c\nd\0e\xe4\xb8\xad\xf0\x9f\x98\x80", 16));
}

TEST(ParseClientMessage, Typing) {
  EXPECT_EQ(parse_as<Typing>(R"({"type":"typing","room":"lobby"})").room, "lobby");
}

TEST(ParseClientMessage, HistoryBefore) {
  const HistoryRequest h =
      parse_as<HistoryRequest>(R"({"type":"history","room":"lobby","before":100,"limit":20})");
  EXPECT_EQ(h.room, "lobby");
  EXPECT_EQ(h.direction, HistoryRequest::Direction::Before);
  EXPECT_EQ(h.anchor, 100u);
  EXPECT_EQ(h.limit, 20u);
}

TEST(ParseClientMessage, HistoryAfterWithDefaultLimit) {
  const HistoryRequest h =
      parse_as<HistoryRequest>(R"({"type":"history","room":"lobby","after":0})");
  EXPECT_EQ(h.direction, HistoryRequest::Direction::After);
  EXPECT_EQ(h.anchor, 0u);
  EXPECT_EQ(h.limit, kDefaultHistoryLimit);
  EXPECT_EQ(
      parse_as<HistoryRequest>(R"({"type":"history","room":"r","after":1,"limit":null})").limit,
      50u);
}

TEST(ParseClientMessage, HistoryNeedsExactlyOneOfBeforeAndAfter) {
  EXPECT_EQ(parse_error(R"({"type":"history","room":"r"})").code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(R"({"type":"history","room":"r","before":1,"after":2})").code,
            ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(R"({"type":"history","room":"r","before":-1})").code,
            ErrorCode::BadMessage);
}

TEST(ParseClientMessage, HistoryLimitFrom1To200) {
  auto limit = [](std::string_view value) {
    return std::string(R"({"type":"history","room":"r","before":9,"limit":)") + std::string(value) +
           "}";
  };
  EXPECT_EQ(parse_as<HistoryRequest>(limit("1")).limit, 1u);
  EXPECT_EQ(parse_as<HistoryRequest>(limit("200")).limit, 200u);
  EXPECT_EQ(parse_error(limit("0")).code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(limit("201")).code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(limit("2.5")).code, ErrorCode::BadMessage);
  // A server configured with smaller pages lowers both the maximum and the default.
  const ParseLimits small{.max_text_bytes = 4000, .history_page_max = 20};
  EXPECT_EQ(parse_error(limit("21"), small).code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_as<HistoryRequest>(R"({"type":"history","room":"r","after":1})", small).limit,
            20u);
}

TEST(ParseClientMessage, Rename) {
  EXPECT_EQ(parse_as<Rename>(R"({"type":"rename","name":" bob "})").name, "bob");
  EXPECT_EQ(parse_error(R"({"type":"rename","name":"   "})").code, ErrorCode::NameInvalid);
}

TEST(ParseClientMessage, Members) {
  const auto first = parse_as<MembersRequest>(R"({"type":"members","room":"r"})");
  EXPECT_EQ(first.room, "r");
  EXPECT_EQ(first.after, "");
  EXPECT_EQ(first.limit, kDefaultMembersLimit);
  const auto next =
      parse_as<MembersRequest>(R"({"type":"members","room":"r","after":"bob","limit":500})");
  EXPECT_EQ(next.after, "bob");
  EXPECT_EQ(next.limit, 500u);
  EXPECT_EQ(parse_error(R"({"type":"members","room":"r","limit":501})").code,
            ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(R"({"type":"members","room":"r","limit":0})").code, ErrorCode::BadMessage);
  EXPECT_EQ(parse_error(R"({"type":"members","room":"r","after":5})").code, ErrorCode::BadMessage);
  const std::string long_cursor = std::string(257, 'a');
  EXPECT_EQ(parse_error(R"({"type":"members","room":"r","after":")" + long_cursor + R"("})").code,
            ErrorCode::BadMessage);
}

TEST(ParseClientMessage, TypeNames) {
  EXPECT_EQ(type_name(ClientMessage{Hello{}}), "hello");
  EXPECT_EQ(type_name(ClientMessage{Join{}}), "join");
  EXPECT_EQ(type_name(ClientMessage{Leave{}}), "leave");
  EXPECT_EQ(type_name(ClientMessage{Send{}}), "send");
  EXPECT_EQ(type_name(ClientMessage{Typing{}}), "typing");
  EXPECT_EQ(type_name(ClientMessage{HistoryRequest{}}), "history");
  EXPECT_EQ(type_name(ClientMessage{Rename{}}), "rename");
  EXPECT_EQ(type_name(ClientMessage{MembersRequest{}}), "members");
  EXPECT_EQ(type_name(ClientMessage{Edit{}}), "edit");
  EXPECT_EQ(type_name(ClientMessage{Delete{}}), "delete");
  EXPECT_EQ(type_name(ClientMessage{React{}}), "react");
  EXPECT_EQ(type_name(ClientMessage{Unreact{}}), "unreact");
  EXPECT_EQ(type_name(ClientMessage{SearchRequest{}}), "search");
  EXPECT_EQ(type_name(ClientMessage{RoomsRequest{}}), "rooms");
}

// --- Forward compatibility and JSON corner cases ----------------------------------------------

TEST(ParseClientMessage, UnknownFieldsAreIgnored) {
  const Send send = parse_as<Send>(
      R"({"v":2,"type":"send","room":"r","id":"1","text":"t","quote":{"msg_id":5,"q":[1,[2]]},)"
      R"("since":"not a number","name":null,"flags":[true,false]})");
  EXPECT_EQ(send.text, "t");
  // Fields of other message types are ignored whatever their type.
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"r","text":5,"before":-1})").room, "r");
}

TEST(ParseClientMessage, WhitespaceAroundAndKeyEscapes) {
  EXPECT_EQ(parse_as<Leave>(" \r\n\t{ \"type\" : \"leave\" , \"room\" : \"r\" } \n").room, "r");
  EXPECT_EQ(parse_as<Leave>(R"({"typ\u0065":"leave","room":"r"})").room, "r");
}

TEST(ParseClientMessage, DuplicateKeysFirstOneCounts) {
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"a","room":"b"})").room, "a");
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","type":"send","room":"a"})").room, "a");
}

TEST(ParseClientMessage, NestingDepthIsLimitedToFour) {
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"r","x":{"y":[[1]]}})").room, "r");
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"r","x":{"y":[{"z":1}]}})").room, "r");
  EXPECT_EQ(parse_error(R"({"type":"leave","room":"r","x":{"y":[[[1]]]}})").code,
            ErrorCode::BadJson);
  EXPECT_EQ(parse_error(R"({"type":"leave","room":"r","x":{"y":[{"z":{"a":1}}]}})").code,
            ErrorCode::BadJson);
  EXPECT_EQ(parse_error(repeat("[", 100000)).code, ErrorCode::BadJson);
}

TEST(ParseClientMessage, LargeFrameAfterSmallOnesStillParses) {
  // The per-thread buffer and parser grow; the result must not depend on what came before.
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"r"})").room, "r");
  const std::string text = repeat("y", 3999);
  const std::string big = R"({"type":"send","room":"r","id":"1","text":")" + text + R"(","pad":")" +
                          repeat(" ", 200000) + "\"}";
  EXPECT_EQ(parse_as<Send>(big).text, text);
  EXPECT_EQ(parse_as<Leave>(R"({"type":"leave","room":"s"})").room, "s");
}

// --- Every error the parser produces ----------------------------------------------------------

TEST(ParseClientMessage, EveryParserErrorCode) {
  struct Case {
    std::string json;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"", ErrorCode::BadJson},
      {"not json", ErrorCode::BadJson},
      {R"({"type":"leave","room":"r")", ErrorCode::BadJson},
      {R"({"type":"leave","room":"r"} {})", ErrorCode::BadJson},
      {R"({"type":"leave",})", ErrorCode::BadJson},
      {"{\"type\":\"leave\",\"room\":\"\xff\"}", ErrorCode::BadJson},  // not UTF-8
      {R"({"type":"send","room":"r","id":"1","text":"\ud800"})", ErrorCode::BadJson},
      {"[]", ErrorCode::BadMessage},
      {"\"hello\"", ErrorCode::BadMessage},
      {"null", ErrorCode::BadMessage},
      {R"({})", ErrorCode::BadMessage},
      {R"({"type":1})", ErrorCode::BadMessage},
      {R"({"type":null})", ErrorCode::BadMessage},
      {R"({"type":"join"})", ErrorCode::BadMessage},
      {R"({"type":"join","room":5})", ErrorCode::BadMessage},
      {R"({"type":"send","room":"r","id":"1"})", ErrorCode::BadMessage},
      {R"({"type":"send","room":"r","text":"t"})", ErrorCode::BadMessage},
      {R"({"type":"send","room":"r","id":1,"text":"t"})", ErrorCode::BadMessage},
      {R"({"type":"send","room":"r","id":"1","text":null})", ErrorCode::BadMessage},
      {R"({"type":"hello"})", ErrorCode::BadMessage},
      {R"({"type":"hello","name":["a"]})", ErrorCode::BadMessage},
      {R"({"type":"Send"})", ErrorCode::UnknownType},
      {R"({"type":""})", ErrorCode::UnknownType},
      {R"({"type":"hello","name":""})", ErrorCode::NameInvalid},
      {R"({"type":"rename","name":"a\u0007b"})", ErrorCode::NameInvalid},
      {R"({"type":"join","room":""})", ErrorCode::RoomInvalid},
      {R"({"type":"typing","room":"a/b"})", ErrorCode::RoomInvalid},
      {R"({"type":"history","room":"a b","after":1})", ErrorCode::RoomInvalid},
      {R"({"type":"send","room":"r","id":"1","text":""})", ErrorCode::TextEmpty},
      {R"({"type":"send","room":"r","id":"1","text":")" + repeat("x", 4001) + "\"}",
       ErrorCode::TextTooLong},
      {R"({"type":"send","room":"r","id":"","text":"t"})", ErrorCode::IdInvalid},
      {R"({"type":"react","room":"r","id":"1","target":1,"emoji":"a"})", ErrorCode::EmojiInvalid},
  };
  std::set<ErrorCode> seen;
  for (const Case& c : cases) {
    const ParseError error = parse_error(c.json);
    EXPECT_EQ(error.code, c.code) << c.json << " -> " << error.message;
    EXPECT_FALSE(error.message.empty()) << c.json;
    seen.insert(error.code);
  }
  // Everything but the errors that need server state.
  EXPECT_EQ(seen.size(), 9u);
}

TEST(ParseClientMessage, ErrorsCarryTheRequestContext) {
  ParseError e = parse_error(R"({"type":"send","room":"lobby","id":"c-1","text":""})");
  EXPECT_EQ(e.ref, "send");
  EXPECT_EQ(e.id, "c-1");
  EXPECT_EQ(e.room, "lobby");
  // What is invalid is not echoed back.
  e = parse_error(R"({"type":"send","room":"no room","id":"c-1","text":"t"})");
  EXPECT_EQ(e.code, ErrorCode::RoomInvalid);
  EXPECT_EQ(e.id, "c-1");
  EXPECT_EQ(e.room, "");
  e = parse_error(R"({"type":"send","room":"r","id":"\u0001","text":"t"})");
  EXPECT_EQ(e.code, ErrorCode::IdInvalid);
  EXPECT_EQ(e.id, "");
  e = parse_error(R"({"type":"history","room":"r","before":1,"after":1})");
  EXPECT_EQ(e.ref, "history");
  EXPECT_EQ(e.room, "r");
  e = parse_error("[1]");
  EXPECT_EQ(e.ref, "");
}

TEST(ParseClientMessage, UnknownTypeIsEchoedUpTo64Bytes) {
  EXPECT_EQ(parse_error(R"({"type":"shout"})").ref, "shout");
  // 30 three-byte characters: the cut at 64 bytes must not split the 22nd.
  const std::string cjk = repeat("\xe4\xb8\xad", 30);
  EXPECT_EQ(parse_error(R"({"type":)" + string_literal(cjk) + "}").ref, repeat("\xe4\xb8\xad", 21));
}

// --- Field rules at their edges ---------------------------------------------------------------

TEST(NameRules, NormalizeTrimsUnicodeWhiteSpace) {
  EXPECT_EQ(*normalize_name(" \t\n\v\f\ralice bob\r\n"), "alice bob");
  EXPECT_FALSE(normalize_name("   "));
  // U+3000 IDEOGRAPHIC SPACE and U+00A0 NO-BREAK SPACE are White_Space too:
  // trimmed at the ends (a name of spaces only looks empty), kept inside.
  EXPECT_EQ(*normalize_name("\xe3\x80\x80x\xc2\xa0"), "x");
  EXPECT_EQ(*normalize_name("\xe5\xb0\x8f\xe3\x80\x80\xe6\x98\x8e"),
            "\xe5\xb0\x8f\xe3\x80\x80\xe6\x98\x8e");
  EXPECT_FALSE(normalize_name("\xe3\x80\x80"));
}

TEST(NameRules, LengthIsCountedInCodePoints) {
  for (std::string_view unit : {"a", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80"}) {
    EXPECT_TRUE(is_valid_name(repeat(unit, 1))) << unit;
    EXPECT_TRUE(is_valid_name(repeat(unit, 32))) << unit;
    EXPECT_FALSE(is_valid_name(repeat(unit, 33))) << unit;
  }
  EXPECT_FALSE(is_valid_name(""));
  const std::string json33 = R"({"type":"hello","name":")" + repeat("\xe4\xb8\xad", 33) + "\"}";
  EXPECT_EQ(parse_error(json33).code, ErrorCode::NameInvalid);
  const std::string json32 = R"({"type":"hello","name":")" + repeat("\xe4\xb8\xad", 32) + "\"}";
  EXPECT_EQ(parse_as<Hello>(json32).name, repeat("\xe4\xb8\xad", 32));
}

TEST(NameRules, ControlCharactersAreRejected) {
  for (int c = 0; c < 0x20; ++c) {
    EXPECT_FALSE(is_valid_name("a" + std::string(1, static_cast<char>(c)) + "b")) << c;
  }
  EXPECT_FALSE(is_valid_name("a\x7f"));
  EXPECT_FALSE(is_valid_name("a\xc2\x80"));  // U+0080, first of C1
  EXPECT_FALSE(is_valid_name("a\xc2\x85"));  // U+0085 NEXT LINE
  EXPECT_FALSE(is_valid_name("a\xc2\x9f"));  // U+009F, last of C1
  EXPECT_TRUE(
      is_valid_name("a\xc2\xa0"
                    "b"));  // U+00A0 NO-BREAK SPACE is printable
  EXPECT_EQ(parse_error(R"({"type":"hello","name":"a\u0000"})").code, ErrorCode::NameInvalid);
  EXPECT_EQ(parse_error(R"({"type":"hello","name":"a\u009f"})").code, ErrorCode::NameInvalid);
}

TEST(NameRules, PrintableCharactersAreAllowed) {
  EXPECT_TRUE(is_valid_name("<script>alert(\"&\")</script>"));
  EXPECT_TRUE(is_valid_name("\xe5\xb0\x8f\xe6\x98\x8e \xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_name("a b"));
}

TEST(NameRules, OnlyNormalizedValidUtf8Passes) {
  EXPECT_FALSE(is_valid_name(" alice"));
  EXPECT_FALSE(is_valid_name("alice "));
  EXPECT_FALSE(is_valid_name("\xff"));
  EXPECT_FALSE(is_valid_name("a\xe4\xb8"));     // cut in the middle of a character
  EXPECT_FALSE(is_valid_name("\xed\xa0\x80"));  // a surrogate
}

TEST(ClientIdRules, OneTo64PrintableAscii) {
  EXPECT_TRUE(is_valid_client_id("c-17"));
  EXPECT_TRUE(is_valid_client_id(" ~!"));
  EXPECT_TRUE(is_valid_client_id(repeat("x", 64)));
  EXPECT_FALSE(is_valid_client_id(repeat("x", 65)));
  EXPECT_FALSE(is_valid_client_id(""));
  EXPECT_FALSE(is_valid_client_id("a\tb"));
  EXPECT_FALSE(is_valid_client_id("a\x7f"));
  EXPECT_FALSE(is_valid_client_id("\xc3\xa9"));
  const std::string send65 =
      R"({"type":"send","room":"r","text":"t","id":)" + string_literal(repeat("x", 65)) + "}";
  EXPECT_EQ(parse_error(send65).code, ErrorCode::IdInvalid);
}

TEST(RoomRules, OneTo64LettersDigitsMarksAndDotUnderscoreHyphen) {
  auto join = [](std::string_view room) {
    return R"({"type":"join","room":)" + string_literal(room) + "}";
  };
  EXPECT_EQ(parse_as<Join>(join(repeat("r", 64))).room, repeat("r", 64));
  EXPECT_EQ(parse_error(join(repeat("r", 65))).code, ErrorCode::RoomInvalid);
  for (std::string_view bad : {"", "a b", "a/b", "..%2f", "a\\\\b", ".", ".."}) {
    EXPECT_EQ(parse_error(join(bad)).code, ErrorCode::RoomInvalid) << bad;
  }
  // Any script (chat_identity_test.cpp has the whole rule).
  EXPECT_EQ(parse_as<Join>(join("caf\xc3\xa9")).room, "caf\xc3\xa9");
  EXPECT_EQ(parse_as<Join>(join(repeat("\xe6\x88\xbf", 64))).room, repeat("\xe6\x88\xbf", 64));
  EXPECT_EQ(parse_error(join(repeat("\xe6\x88\xbf", 65))).code, ErrorCode::RoomInvalid);
}

TEST(TextRules, LimitIsInUtf8BytesAfterUnescaping) {
  auto send = [](std::string_view text) {
    return R"({"type":"send","room":"r","id":"1","text":")" + std::string(text) + "\"}";
  };
  EXPECT_EQ(parse_as<Send>(send(repeat("x", 4000))).text.size(), 4000u);
  EXPECT_EQ(parse_error(send(repeat("x", 4001))).code, ErrorCode::TextTooLong);
  // 2000 two-byte characters are 4000 bytes; one more ASCII byte is too many.
  EXPECT_EQ(parse_as<Send>(send(repeat("\xc3\xa9", 2000))).text.size(), 4000u);
  EXPECT_EQ(parse_error(send(repeat("\xc3\xa9", 2000) + "x")).code, ErrorCode::TextTooLong);
  // "\n" is two bytes of JSON but one of text.
  EXPECT_EQ(parse_as<Send>(send(repeat("\\n", 4000))).text, repeat("\n", 4000));
  // The limit comes from the server.
  const ParseLimits small{.max_text_bytes = 3};
  EXPECT_EQ(parse_as<Send>(send("abc"), small).text, "abc");
  EXPECT_EQ(parse_error(send("abcd"), small).code, ErrorCode::TextTooLong);
  // Any non-empty text, whitespace included.
  EXPECT_EQ(parse_as<Send>(send(" ")).text, " ");
}

TEST(ErrorCodeNames, StableSnakeCaseStrings) {
  const std::vector<std::pair<ErrorCode, std::string_view>> names = {
      {ErrorCode::BadJson, "bad_json"},
      {ErrorCode::BadMessage, "bad_message"},
      {ErrorCode::UnknownType, "unknown_type"},
      {ErrorCode::HelloRequired, "hello_required"},
      {ErrorCode::HelloRepeated, "hello_repeated"},
      {ErrorCode::NameInvalid, "name_invalid"},
      {ErrorCode::RoomInvalid, "room_invalid"},
      {ErrorCode::NotInRoom, "not_in_room"},
      {ErrorCode::TooManyRooms, "too_many_rooms"},
      {ErrorCode::RoomLimit, "room_limit"},
      {ErrorCode::TextEmpty, "text_empty"},
      {ErrorCode::TextTooLong, "text_too_long"},
      {ErrorCode::IdInvalid, "id_invalid"},
      {ErrorCode::RateLimited, "rate_limited"},
      {ErrorCode::HistoryUnavailable, "history_unavailable"},
      {ErrorCode::Internal, "internal"},
      {ErrorCode::NotFound, "not_found"},
      {ErrorCode::NotAuthor, "not_author"},
      {ErrorCode::Deleted, "deleted"},
      {ErrorCode::LimitReached, "limit_reached"},
      {ErrorCode::EmojiInvalid, "emoji_invalid"},
  };
  for (const auto& [code, name] : names) EXPECT_EQ(error_code_name(code), name);
}

// --- Encoding ---------------------------------------------------------------------------------

// Strings that need every kind of escaping, and some that need none.
const std::vector<std::string>& tricky_strings() {
  static const std::vector<std::string> strings = {
      "",
      "plain",
      "say \"hi\"",
      "back\\slash \\\" \\u0041",
      "line\nbreak\r\n\ttab\b\f",
      std::string("nul\0inside", 10),
      std::string("\x01\x02\x1f\x7f", 4),
      "\xf0\x9f\x98\x80 emoji \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",
      "\xe4\xb8\xad\xe6\x96\x87 CJK",
      "</script><b>&amp;</b>",
      "\xe2\x80\xa8 U+2028 \xe2\x80\xa9",
  };
  return strings;
}

TEST(EncodeMessage, ExactShape) {
  const Message m{42, 1700000000123, "u7", "alice", "c-17", "hi"};
  EXPECT_EQ(encode_message("lobby", m),
            R"({"type":"message","room":"lobby","msg_id":42,"ts":1700000000123,"user":"u7",)"
            R"("from":"alice","text":"hi","id":"c-17"})");
}

TEST(EncodeMessage, EscapesControlCharactersAsJsonRequires) {
  const Message m{1, 2, "u", "f", "i", std::string("\"\\\n\x01\0\x1f\x7f", 7)};
  const std::string json = encode_message("r", m);
  EXPECT_NE(json.find(R"("text":"\"\\\n\u0001\u0000\u001f)"
                      "\x7f\""),
            std::string::npos)
      << json;
}

TEST(EncodeMessage, EveryStringRoundTrips) {
  for (const std::string& s : tricky_strings()) {
    const Message m{kMaxSafeInteger, -5, s, s, s, s};
    Decoded d(encode_message("room", m));
    EXPECT_EQ(encoded_message_size("room", m), encode_message("room", m).size());
    EXPECT_EQ(Decoded::str(d["type"]), "message");
    EXPECT_EQ(Decoded::str(d["room"]), "room");
    EXPECT_EQ(Decoded::u64(d["msg_id"]), kMaxSafeInteger);
    EXPECT_EQ(Decoded::i64(d["ts"]), -5);
    EXPECT_EQ(Decoded::str(d["user"]), s);
    EXPECT_EQ(Decoded::str(d["from"]), s);
    EXPECT_EQ(Decoded::str(d["text"]), s);
    EXPECT_EQ(Decoded::str(d["id"]), s);
  }
}

TEST(EncodeMessage, ParsedTextComesBackUnchanged) {
  const Send send = parse_as<Send>(
      R"({"type":"send","room":"r","id":"c","text":"\"q\" \\ \n \u0000 \ud83d\ude00 \u4e2d"})");
  Decoded d(encode_message(send.room, Message{1, 2, "u", "f", send.id, send.text}));
  EXPECT_EQ(Decoded::str(d["text"]), send.text);
  // The encoder's JSON string, spliced into a send, parses back to the same text.
  const std::string encoded = encode_message("r", Message{1, 2, "u", "f", "c", send.text});
  const std::size_t begin = encoded.find("\"text\":") + 7;
  const std::string literal = encoded.substr(begin, encoded.rfind(",\"id\":") - begin);
  EXPECT_EQ(parse_as<Send>(R"({"type":"send","room":"r","id":"c","text":)" + literal + "}").text,
            send.text);
}

TEST(EncodeWelcome, AllFields) {
  const WelcomeView w{.session = "s-1",
                      .user = "u-1",
                      .resume = "tok",
                      .name = "al\"ice",
                      .server = "parley/0.1.0",
                      .limits = {65536, 4000, 16, 200, 10, 20},
                      .auth = {},
                      .expires_at = 0};
  Decoded d(encode_welcome(w));
  EXPECT_EQ(Decoded::str(d["type"]), "welcome");
  EXPECT_EQ(Decoded::str(d["session"]), "s-1");
  EXPECT_EQ(Decoded::str(d["user"]), "u-1");
  EXPECT_EQ(Decoded::str(d["resume"]), "tok");
  EXPECT_EQ(Decoded::str(d["name"]), "al\"ice");
  EXPECT_EQ(Decoded::str(d["server"]), "parley/0.1.0");
  EXPECT_EQ(Decoded::u64(d["protocol"]), 1u);
  const element limits = d["limits"];
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_message_bytes")), 65536u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_text_bytes")), 4000u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_rooms")), 16u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "history_page_max")), 200u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "rate_per_sec")), 10u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "rate_burst")), 20u);
}

TEST(EncodeWelcome, FractionalRatesAndNonFinite) {
  const WelcomeView w{"s", "u", "t", "n", "parley/1", {1, 2, 3, 4, 0.5, 1e300}, {}, 0};
  const std::string json = encode_welcome(w);
  EXPECT_NE(json.find(R"("rate_per_sec":0.5,"rate_burst":1e+300})"), std::string::npos) << json;
  const WelcomeView bad{"s", "u", "t", "n", "parley/1", {1, 2, 3, 4, std::nan(""), HUGE_VAL},
                        {},  0};
  Decoded d(encode_welcome(bad));
  EXPECT_TRUE(Decoded::at(d["limits"], "rate_per_sec").is_null());
  EXPECT_TRUE(Decoded::at(d["limits"], "rate_burst").is_null());
}

TEST(EncodeJoined, MembersAndHistory) {
  const std::vector<MemberView> members = {{"u1", "alice"}, {"u2", "\xe5\xb0\x8f\xe6\x98\x8e"}};
  const std::vector<Message> history = {{7, 100, "u1", "alice", "a", "one\n"},
                                        {8, 200, "u2", "bob", "", "two\""}};
  Decoded d(encode_joined({"lobby", "ali\\ce", members, history, true, 8, 3, 2}));
  EXPECT_EQ(Decoded::u64(d["online"]), 3u);
  EXPECT_EQ(Decoded::u64(d["users"]), 2u);
  EXPECT_EQ(Decoded::str(d["type"]), "joined");
  EXPECT_EQ(Decoded::str(d["room"]), "lobby");
  EXPECT_EQ(Decoded::str(d["you"]), "ali\\ce");
  EXPECT_TRUE(Decoded::boolean(d["truncated"]));
  EXPECT_EQ(Decoded::u64(d["last_id"]), 8u);
  simdjson::dom::array array;
  ASSERT_FALSE(d["members"].get(array));
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(Decoded::str(Decoded::at(array.at(1).value(), "name")), members[1].name);
  ASSERT_FALSE(d["history"].get(array));
  ASSERT_EQ(array.size(), 2u);
  const element second = array.at(1).value();
  EXPECT_EQ(Decoded::str(Decoded::at(second, "type")), "message");
  EXPECT_EQ(Decoded::u64(Decoded::at(second, "msg_id")), 8u);
  EXPECT_EQ(Decoded::str(Decoded::at(second, "text")), "two\"");
  EXPECT_EQ(Decoded::str(Decoded::at(second, "id")), "");
}

TEST(EncodeJoined, EmptyRoom) {
  EXPECT_EQ(encode_joined({"r", "a", {}, {}, false, 0, 1, 1}),
            R"({"type":"joined","room":"r","you":"a","members":[],"history":[],)"
            R"("truncated":false,"last_id":0,"online":1,"users":1})");
}

TEST(EncodeLeftAckTyping, Fields) {
  EXPECT_EQ(encode_left("lobby"), R"({"type":"left","room":"lobby"})");
  Decoded ack(encode_ack({"lobby", "c-\"17\"", 9, 1700000000000, true}));
  EXPECT_EQ(Decoded::str(ack["type"]), "ack");
  EXPECT_EQ(Decoded::str(ack["room"]), "lobby");
  EXPECT_EQ(Decoded::str(ack["id"]), "c-\"17\"");
  EXPECT_EQ(Decoded::u64(ack["msg_id"]), 9u);
  EXPECT_EQ(Decoded::i64(ack["ts"]), 1700000000000);
  EXPECT_TRUE(Decoded::boolean(ack["duplicate"]));
  EXPECT_EQ(encode_typing("r", "u1", "al\nice"),
            R"({"type":"typing","room":"r","user":"u1","from":"al\nice"})");
}

TEST(EncodePresence, OldOnlyForRenamed) {
  Decoded renamed(encode_presence({"r", PresenceKind::Renamed, "u1", "bob", "alice", 3, 2}));
  EXPECT_EQ(Decoded::str(renamed["event"]), "renamed");
  EXPECT_EQ(Decoded::str(renamed["old"]), "alice");
  EXPECT_EQ(Decoded::str(renamed["name"]), "bob");
  EXPECT_EQ(Decoded::u64(renamed["online"]), 3u);
  EXPECT_EQ(Decoded::u64(renamed["users"]), 2u);
  EXPECT_EQ(encode_presence({"r", PresenceKind::Joined, "u1", "bob", "ignored", 2, 1}),
            R"({"type":"presence","room":"r","event":"joined","user":"u1","name":"bob",)"
            R"("online":2,"users":1})");
  Decoded left(encode_presence({"r", PresenceKind::Left, "u1", "bob", "", 0, 0}));
  EXPECT_EQ(Decoded::str(left["event"]), "left");
  EXPECT_FALSE(Decoded::has(left.root(), "old"));
}

TEST(EncodeHistory, Page) {
  const std::vector<Message> page = {{1, 1, "u", "a", "", "x"}};
  Decoded d(encode_history("r", page, false));
  EXPECT_EQ(Decoded::str(d["type"]), "history");
  EXPECT_FALSE(Decoded::boolean(d["truncated"]));
  simdjson::dom::array messages;
  ASSERT_FALSE(d["messages"].get(messages));
  EXPECT_EQ(messages.size(), 1u);
  EXPECT_EQ(encode_history("r", {}, true),
            R"({"type":"history","room":"r","messages":[],"truncated":true})");
}

TEST(EncodeError, OptionalFieldsOnlyWhenSet) {
  EXPECT_EQ(encode_error(ErrorCode::HelloRequired, "say hello first"),
            R"({"type":"error","code":"hello_required","message":"say hello first"})");
  Decoded d(encode_error(ErrorCode::NotInRoom, "join first", "send", "c-1", "lobby"));
  EXPECT_EQ(Decoded::str(d["code"]), "not_in_room");
  EXPECT_EQ(Decoded::str(d["ref"]), "send");
  EXPECT_EQ(Decoded::str(d["id"]), "c-1");
  EXPECT_EQ(Decoded::str(d["room"]), "lobby");
}

TEST(EncodeError, FromParseErrorRoundTrips) {
  for (const std::string& s : tricky_strings()) {
    const ParseError e{ErrorCode::UnknownType, s, s, s, s};
    Decoded d(encode_error(e));
    EXPECT_EQ(Decoded::str(d["code"]), "unknown_type");
    EXPECT_EQ(Decoded::str(d["message"]), s);
    EXPECT_EQ(Decoded::has(d.root(), "ref"), !s.empty());
    if (!s.empty()) {
      EXPECT_EQ(Decoded::str(d["ref"]), s);
    }
  }
  // What the parser reports encodes to an event naming the request.
  Decoded d(encode_error(parse_error(R"({"type":"send","room":"r","id":"c\"1","text":""})")));
  EXPECT_EQ(Decoded::str(d["code"]), "text_empty");
  EXPECT_EQ(Decoded::str(d["ref"]), "send");
  EXPECT_EQ(Decoded::str(d["id"]), "c\"1");
  EXPECT_EQ(Decoded::str(d["room"]), "r");
}

// --- The room's log, search and the directory ----------------------------------------------

TEST(ParseClientMessage, SendWithReplyTo) {
  EXPECT_EQ(parse_as<Send>(R"({"type":"send","room":"r","id":"1","text":"t"})").reply_to, 0u);
  EXPECT_EQ(
      parse_as<Send>(R"({"type":"send","room":"r","id":"1","text":"t","reply_to":122})").reply_to,
      122u);
  EXPECT_EQ(
      parse_as<Send>(R"({"type":"send","room":"r","id":"1","text":"t","reply_to":null})").reply_to,
      0u);
  for (const char* bad : {"0", "-1", "1.5", "\"5\"", "9007199254740993", "{}"}) {
    ParseError e = parse_error(std::string(R"({"type":"send","room":"r","id":"c","text":"t",)") +
                               R"("reply_to":)" + bad + "}");
    EXPECT_EQ(e.code, ErrorCode::BadMessage) << bad;
    EXPECT_EQ(e.id, "c");
  }
}

TEST(ParseClientMessage, EditDeleteReactUnreact) {
  const Edit edit =
      parse_as<Edit>(R"({"type":"edit","room":"lobby","id":"c-19","target":123,"text":"hi all"})");
  EXPECT_EQ(edit.room, "lobby");
  EXPECT_EQ(edit.id, "c-19");
  EXPECT_EQ(edit.target, 123u);
  EXPECT_EQ(edit.text, "hi all");
  const Delete del = parse_as<Delete>(R"({"type":"delete","room":"r","id":"c","target":9})");
  EXPECT_EQ(del.target, 9u);
  const React react =
      parse_as<React>(R"({"type":"react","room":"r","id":"c","target":9,"emoji":"👍🏽"})");
  EXPECT_EQ(react.emoji, "👍🏽");
  const Unreact unreact = parse_as<Unreact>(
      R"({"type":"unreact","room":"r","id":"c","target":9,"emoji":"\u2764\ufe0f"})");
  EXPECT_EQ(unreact.emoji, "❤️");
}

TEST(ParseClientMessage, ChangesCheckTheirIdFirstAndCarryIt) {
  struct Case {
    std::string json;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {R"({"type":"edit","room":"r","id":"c","text":"t"})", ErrorCode::BadMessage},
      {R"({"type":"edit","room":"r","id":"c","target":0,"text":"t"})", ErrorCode::BadMessage},
      {R"({"type":"edit","room":"r","id":"c","target":"1","text":"t"})", ErrorCode::BadMessage},
      {R"({"type":"edit","room":"r","id":"c","target":1,"text":""})", ErrorCode::TextEmpty},
      {R"({"type":"edit","room":"r","id":"c","target":1})", ErrorCode::BadMessage},
      {R"({"type":"delete","room":"a b","id":"c","target":1})", ErrorCode::RoomInvalid},
      {R"({"type":"react","room":"r","id":"c","target":1})", ErrorCode::BadMessage},
      {R"({"type":"react","room":"r","id":"c","target":1,"emoji":"👍👍"})", ErrorCode::EmojiInvalid},
      {R"({"type":"unreact","room":"r","id":"c","target":1,"emoji":" 👍"})",
       ErrorCode::EmojiInvalid},
  };
  for (const Case& c : cases) {
    const ParseError e = parse_error(c.json);
    EXPECT_EQ(e.code, c.code) << c.json << " -> " << e.message;
    EXPECT_EQ(e.id, "c") << c.json;
  }
  EXPECT_EQ(parse_error(R"({"type":"delete","room":"r","id":"","target":1})").code,
            ErrorCode::IdInvalid);
  const ParseLimits small{.max_text_bytes = 3};
  EXPECT_EQ(
      parse_error(R"({"type":"edit","room":"r","id":"c","target":1,"text":"long"})", small).code,
      ErrorCode::TextTooLong);
}

TEST(EmojiRules, OneEmojiAsTheUserSeesIt) {
  for (const char* ok : {"👍", "❤️", "❤", "👍🏽", "👨‍👩‍👧",
                         "👨🏻‍👩🏻‍👧🏻‍👦🏻", "🇯🇵",
                         "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "☺️", "🫠"}) {
    EXPECT_TRUE(check_emoji(ok).ok()) << ok << ": " << check_emoji(ok).error().message;
  }
  for (const char* bad : {"", "a", "中", ":)", "👍👍", " 👍", "👍 ", "👍\u200b", "\u200d", "\ufe0f", "🇯",
                          "\n", "\x01", "1", "\xee\x80\x80"}) {
    EXPECT_FALSE(check_emoji(bad).ok()) << bad;
  }
  EXPECT_FALSE(check_emoji(repeat("👍\u200d", 16) + "👍").ok());  // 65+ bytes
}

TEST(ParseClientMessage, HistoryAround) {
  const HistoryRequest h =
      parse_as<HistoryRequest>(R"({"type":"history","room":"r","around":77,"limit":9})");
  EXPECT_EQ(h.direction, HistoryRequest::Direction::Around);
  EXPECT_EQ(h.anchor, 77u);
  EXPECT_EQ(h.limit, 9u);
  EXPECT_EQ(parse_error(R"({"type":"history","room":"r","around":1,"after":2})").code,
            ErrorCode::BadMessage);
}

TEST(ParseClientMessage, Search) {
  const SearchRequest s = parse_as<SearchRequest>(
      R"({"type":"search","room":"r","query":"  release notes\u3000","before":900,"limit":5})");
  EXPECT_EQ(s.room, "r");
  EXPECT_EQ(s.query, "release notes");  // trimmed of Unicode white space
  EXPECT_EQ(s.before, 900u);
  EXPECT_EQ(s.limit, 5u);
  const SearchRequest d = parse_as<SearchRequest>(R"({"type":"search","room":"r","query":"房间"})");
  EXPECT_EQ(d.before, 0u);
  EXPECT_EQ(d.limit, kDefaultSearchLimit);
  EXPECT_EQ(parse_as<SearchRequest>(R"({"type":"search","room":"r","query":")" + repeat("字", 100) +
                                    "\"}")
                .query.size(),
            300u);
  for (const std::string& bad :
       {std::string(R"({"type":"search","room":"r"})"),
        std::string(R"({"type":"search","room":"r","query":"   "})"),
        R"({"type":"search","room":"r","query":")" + repeat("字", 101) + "\"}",
        std::string(R"({"type":"search","room":"r","query":"x","limit":51})"),
        std::string(R"({"type":"search","room":"r","query":"x","before":0})")}) {
    EXPECT_EQ(parse_error(bad).code, ErrorCode::BadMessage) << bad;
  }
}

TEST(ParseClientMessage, Rooms) {
  const RoomsRequest all = parse_as<RoomsRequest>(R"({"type":"rooms"})");
  EXPECT_EQ(all.query, "");
  EXPECT_EQ(all.order, RoomsRequest::Order::Users);
  EXPECT_EQ(all.limit, kDefaultRoomsLimit);
  const RoomsRequest r = parse_as<RoomsRequest>(
      R"({"type":"rooms","query":" 我的 ","order":"name","after":"lobby","limit":100})");
  EXPECT_EQ(r.query, "我的");
  EXPECT_EQ(r.order, RoomsRequest::Order::Name);
  EXPECT_EQ(r.after, "lobby");
  EXPECT_EQ(r.limit, 100u);
  for (const std::string& bad : {std::string(R"({"type":"rooms","order":"size"})"),
                                 std::string(R"({"type":"rooms","limit":101})"),
                                 R"({"type":"rooms","query":")" + repeat("a", 65) + "\"}",
                                 R"({"type":"rooms","after":")" + repeat("a", 301) + "\"}"}) {
    EXPECT_EQ(parse_error(bad).code, ErrorCode::BadMessage) << bad;
  }
}

Message entry(EntryKind kind, uint64_t id, uint64_t target, std::string text) {
  Message m{id, 1700000009000, "u-41", "alice", "c-19", std::move(text)};
  m.kind = kind;
  m.target = target;
  return m;
}

TEST(EncodeMessage, TheStateOfAChangedReplyAndTheViewersReactions) {
  Message m{124, 1700000000500, "u-7", "bob", "b-4", "hello alice"};
  m.reply = Quote{123, "u-41", "alice", "hi", false};
  m.edited_ms = 1700000009000;
  m.reactions = {Reaction{"👍", {"u-7", "u-41"}}, Reaction{"🎉", {"u-9"}}};
  m.rev = 131;
  const std::string head =
      R"({"type":"message","room":"lobby","msg_id":124,"ts":1700000000500,"user":"u-7",)"
      R"("from":"bob","text":"hello alice","id":"b-4",)"
      R"("reply_to":{"msg_id":123,"user":"u-41","from":"alice","text":"hi"},)"
      R"("edited":1700000009000,)";
  EXPECT_EQ(encode_message("lobby", m, "u-41"),
            head + R"("reactions":[{"emoji":"👍","count":2,"me":true},{"emoji":"🎉","count":1}],)"
                   R"("rev":131})");
  EXPECT_EQ(encode_message("lobby", m),  // a shared text: no `me`
            head + R"("reactions":[{"emoji":"👍","count":2},{"emoji":"🎉","count":1}],"rev":131})");
  Message gone{125, 5, "u-7", "bob", "b-5", ""};
  gone.deleted = true;
  gone.rev = 126;
  gone.reply = Quote{123, "u-41", "alice", "", true};
  EXPECT_EQ(encode_message("r", gone),
            R"({"type":"message","room":"r","msg_id":125,"ts":5,"user":"u-7","from":"bob",)"
            R"("text":"","id":"b-5","reply_to":{"msg_id":123,"user":"u-41","from":"alice",)"
            R"("text":"","deleted":true},"deleted":true,"rev":126})");
}

TEST(EncodeMessage, ChangeEvents) {
  EXPECT_EQ(encode_message("lobby", entry(EntryKind::Edit, 130, 123, "hi all")),
            R"({"type":"message_edited","room":"lobby","msg_id":130,"ts":1700000009000,)"
            R"("user":"u-41","from":"alice","id":"c-19","target":123,"text":"hi all"})");
  EXPECT_EQ(encode_message("lobby", entry(EntryKind::Delete, 131, 123, "")),
            R"({"type":"message_deleted","room":"lobby","msg_id":131,"ts":1700000009000,)"
            R"("user":"u-41","from":"alice","id":"c-19","target":123})");
  Message react = entry(EntryKind::React, 132, 124, "👍");
  react.count = 2;
  EXPECT_EQ(encode_message("lobby", react),
            R"({"type":"reaction","room":"lobby","msg_id":132,"ts":1700000009000,)"
            R"("user":"u-41","from":"alice","id":"c-19","target":124,"emoji":"👍",)"
            R"("added":true,"count":2})");
  Message unreact = entry(EntryKind::Unreact, 133, 124, "👍");
  unreact.count = 1;
  EXPECT_TRUE(encode_message("lobby", unreact).ends_with(R"("added":false,"count":1})"));
}

TEST(EncodeMessage, TheSizeOfEveryKindOfEntryIsExact) {
  for (const std::string& s : tricky_strings()) {
    Message m{7, -3, s, s, s, s};
    m.reply = Quote{6, s, s, s, true};
    m.reactions = {Reaction{s, {s, "v"}}};
    m.edited_ms = 9;
    m.rev = 8;
    for (std::string_view viewer :
         {std::string_view(), std::string_view(s), std::string_view("v")}) {
      EXPECT_EQ(encoded_message_size("r", m, viewer), encode_message("r", m, viewer).size());
    }
    Decoded d(encode_message("r", m, s));
    EXPECT_EQ(Decoded::str(Decoded::at(d["reply_to"], "text")), s);
    for (EntryKind kind : {EntryKind::Edit, EntryKind::Delete, EntryKind::React}) {
      Message c = entry(kind, 9, 7, s);
      c.user = s;
      EXPECT_EQ(encoded_message_size("r", c), encode_message("r", c).size());
      Decoded change(encode_message("r", c));
      EXPECT_EQ(Decoded::u64(change["target"]), 7u);
    }
  }
}

TEST(EncodeHistory, AroundSaysNewerSearchSaysNextRoomsPages) {
  const std::vector<Message> page = {{1, 1, "u", "a", "", "x"}};
  EXPECT_EQ(encode_history(HistoryView{"r", {}, true, {}, false}),
            R"({"type":"history","room":"r","messages":[],"truncated":true,"newer":false})");
  Decoded around(encode_history(HistoryView{"r", page, false, "u", true}));
  EXPECT_TRUE(Decoded::boolean(around["newer"]));
  EXPECT_EQ(encode_search_results(SearchResultsView{"r", "re\"l", {}, true, 812, {}}),
            R"({"type":"search_results","room":"r","query":"re\"l","messages":[],)"
            R"("truncated":true,"next":812})");
  EXPECT_EQ(encode_search_results(SearchResultsView{"r", "q", {}, false, 0, {}}),
            R"({"type":"search_results","room":"r","query":"q","messages":[],"truncated":false})");
  const std::vector<RoomSummary> rooms = {{"lobby", 12, 15}, {"我的房间", 3, 3}};
  EXPECT_EQ(encode_rooms(RoomsView{rooms, "3:我的房间", 42}),
            R"({"type":"rooms","rooms":[{"room":"lobby","users":12,"online":15},)"
            R"({"room":"我的房间","users":3,"online":3}],"next":"3:我的房间","total":42})");
  EXPECT_EQ(encode_rooms(RoomsView{{}, {}, 0}), R"({"type":"rooms","rooms":[],"total":0})");
}

TEST(EncodeWelcome, TheLimitsOfTheLog) {
  WelcomeView w;
  w.session = "s";
  w.limits.search_page_max = 50;
  w.limits.max_reaction_emoji = 20;
  w.limits.max_reactions = 1000;
  w.limits.quote_chars = 100;
  w.limits.max_upload_bytes = 10u << 20;
  Decoded d(encode_welcome(w));
  const element limits = d["limits"];
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "search_page_max")), 50u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_reaction_emoji")), 20u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_reactions")), 1000u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "quote_chars")), 100u);
  EXPECT_EQ(Decoded::u64(Decoded::at(limits, "max_upload_bytes")), 10u << 20);
}

}  // namespace
}  // namespace parley::chat
