// The backend API's pure parts (docs/API.md): the JSON codec, the endpoint
// and query parser, percent-decoding, the key file and its constant-time
// match, the rate limiter.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "app/api_keys.h"
#include "app/api_limiter.h"
#include "app/api_route.h"
#include "chat/api_codec.h"
#include "http/query.h"

namespace parley {
namespace {

using chat::ApiErrorCode;

ApiErrorCode code_of(const Error& e) {
  return chat::api_error_code(e);
}

// --- POST body --------------------------------------------------------------

TEST(ApiCodec, ParsesAPost) {
  auto post = chat::parse_api_post(
      R"({"text": "héllo\n", "id": "job-1", "name": "  CI bot ", "reply_to": 7, "extra": [1]})",
      4000);
  ASSERT_TRUE(post) << post.error().message;
  EXPECT_EQ(post->text, "héllo\n");
  EXPECT_EQ(post->client_id, "job-1");
  EXPECT_EQ(post->name, "CI bot");  // normalised like a chat name
  EXPECT_EQ(post->reply_to, 7u);
  auto bare = chat::parse_api_post(R"({"id":"a","text":"b","name":null})", 4000);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->name, "");
  EXPECT_EQ(bare->reply_to, 0u);
}

TEST(ApiCodec, RefusesBadBodiesWithTheirCode) {
  struct Case {
    std::string body;
    ApiErrorCode code;
  };
  const Case cases[] = {
      {"", ApiErrorCode::BadJson},
      {"{", ApiErrorCode::BadJson},
      {"[]", ApiErrorCode::BadJson},
      {"\"text\"", ApiErrorCode::BadJson},
      {"{\"id\":\"a\",\"text\":\"\xff\"}", ApiErrorCode::BadJson},  // not UTF-8
      {R"({"a":{"b":{"c":{"d":{"e":{}}}}}})", ApiErrorCode::BadJson},
      {R"({"text":"x"})", ApiErrorCode::BadRequest},
      {R"({"id":"a"})", ApiErrorCode::BadRequest},
      {R"({"id":1,"text":"x"})", ApiErrorCode::BadRequest},
      {R"({"id":"a","text":["x"]})", ApiErrorCode::BadRequest},
      {R"({"id":"","text":"x"})", ApiErrorCode::IdInvalid},
      {R"({"id":"\u0001","text":"x"})", ApiErrorCode::IdInvalid},
      {R"({"id":"a","text":""})", ApiErrorCode::TextEmpty},
      {R"({"id":"a","text":"12345"})", ApiErrorCode::TextTooLong},
      {R"({"id":"a","text":"x","name":"\u200b"})", ApiErrorCode::NameInvalid},
      {R"({"id":"a","text":"x","name":5})", ApiErrorCode::BadRequest},
      {R"({"id":"a","text":"x","reply_to":0})", ApiErrorCode::BadRequest},
      {R"({"id":"a","text":"x","reply_to":1.5})", ApiErrorCode::BadRequest},
      {R"({"id":"a","text":"x","reply_to":9007199254740993})", ApiErrorCode::BadRequest},
  };
  for (const Case& c : cases) {
    auto post = chat::parse_api_post(c.body, 4);
    ASSERT_FALSE(post) << c.body;
    EXPECT_EQ(code_of(post.error()), c.code) << c.body << ": " << post.error().message;
  }
  // The limit is on the text's bytes after unescaping.
  EXPECT_TRUE(chat::parse_api_post(R"({"id":"a","text":"\u00e9\u00e9"})", 4));
  EXPECT_FALSE(chat::parse_api_post(R"({"id":"a","text":"\u00e9\u00e9x"})", 4));
}

TEST(ApiCodec, EncodesAnswersAndErrors) {
  EXPECT_EQ(chat::encode_api_posted("lobby", "c\"1", 42, 1700000000123, false),
            R"({"room":"lobby","id":"c\"1","msg_id":42,"ts":1700000000123,"duplicate":false})");
  EXPECT_EQ(chat::encode_api_error(ApiErrorCode::RoomNotFound, "no \"such\" room"),
            R"({"error":{"code":"room_not_found","message":"no \"such\" room"}})");
  EXPECT_EQ(chat::encode_api_kicked("r", "u-1", 2), R"({"room":"r","user":"u-1","connections":2})");
  chat::Message m{5, 1000, "api:ci", "CI", "j1", "hi"};
  std::vector<chat::Message> page{m};
  EXPECT_EQ(
      chat::encode_api_messages("r", page, true),
      R"({"room":"r","messages":[)" + chat::encode_message("r", m) + R"(],"truncated":true})");
  EXPECT_EQ(chat::encode_api_messages("r", {}, false),
            R"({"room":"r","messages":[],"truncated":false})");
  std::vector<chat::MemberView> members{{"u-1", "ann"}};
  EXPECT_EQ(
      chat::encode_api_members(chat::MembersView{"r", members, "ann", 3, 1}),
      R"({"room":"r","members":[{"user":"u-1","name":"ann"}],"next":"ann","online":3,"users":1})");
  chat::RoomsPage rooms{{{"a", 2, 3}}, "", 1};
  EXPECT_EQ(chat::encode_api_rooms(rooms),
            R"({"rooms":[{"room":"a","users":2,"online":3}],"total":1})");
}

TEST(ApiCodec, ErrorCodesRoundTripThroughError) {
  for (int i = 0; i <= static_cast<int>(ApiErrorCode::ApiDisabled); ++i) {
    auto code = static_cast<ApiErrorCode>(i);
    EXPECT_EQ(code_of(chat::api_error(code, "m")), code);
    EXPECT_FALSE(chat::api_error_name(code).empty());
  }
  EXPECT_EQ(chat::api_error(ApiErrorCode::RoomNotFound, "").code, Errc::NotFound);
  EXPECT_EQ(chat::api_error(ApiErrorCode::Unavailable, "").code, Errc::Unavailable);
  EXPECT_EQ(code_of(Error(Errc::Io, "other")), ApiErrorCode::BadJson);  // detail 0
}

// --- percent-decoding and queries ----------------------------------------------

TEST(HttpQuery, PercentDecodes) {
  EXPECT_EQ(http::percent_decode("caf%C3%a9+x"), "café+x");
  EXPECT_EQ(http::percent_decode("a+b", true), "a b");
  EXPECT_EQ(http::percent_decode("%00"), std::string(1, '\0'));
  EXPECT_FALSE(http::percent_decode("%"));
  EXPECT_FALSE(http::percent_decode("%4"));
  EXPECT_FALSE(http::percent_decode("%4g"));
  EXPECT_FALSE(http::percent_decode("ab%"));
}

TEST(HttpQuery, SplitsAQuery) {
  EXPECT_EQ(http::query_of("/a?b=1#frag"), "b=1");
  EXPECT_EQ(http::query_of("/a"), "");
  auto q = http::parse_query("a=1&&b=x%20y&c&a=2");
  ASSERT_TRUE(q);
  http::QueryParams want{{"a", "1"}, {"b", "x y"}, {"c", ""}, {"a", "2"}};
  EXPECT_EQ(*q, want);
  EXPECT_FALSE(http::parse_query("a=%zz"));
}

// --- endpoints --------------------------------------------------------------

using app::ApiTarget;
using E = ApiTarget::Endpoint;

TEST(ApiRoute, FindsEachEndpoint) {
  auto rooms = app::parse_api_target("GET", "/api/v1/rooms", "q=lo&order=name&limit=5&after=x");
  ASSERT_TRUE(rooms) << rooms.error().message;
  EXPECT_EQ(rooms->endpoint, E::ListRooms);
  EXPECT_EQ(rooms->rooms.query, "lo");
  EXPECT_EQ(rooms->rooms.order, chat::RoomsRequest::Order::Name);
  EXPECT_EQ(rooms->rooms.limit, 5u);
  EXPECT_EQ(rooms->rooms.after, "x");

  auto post = app::parse_api_target("POST", "/api/v1/rooms/lobby/messages", "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->endpoint, E::PostMessage);
  EXPECT_EQ(post->room, "lobby");

  auto page = app::parse_api_target("GET", "/api/v1/rooms/lobby/messages", "before=10&limit=3");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->endpoint, E::GetMessages);
  EXPECT_EQ(page->page.from, chat::PageQuery::From::Before);
  EXPECT_EQ(page->page.anchor, 10u);
  EXPECT_EQ(page->page.limit, 3u);
  auto after = app::parse_api_target("GET", "/api/v1/rooms/lobby/messages", "after=0");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->page.from, chat::PageQuery::From::After);
  EXPECT_EQ(after->page.limit, 50u);
  auto newest = app::parse_api_target("GET", "/api/v1/rooms/lobby/messages", "");
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->page.from, chat::PageQuery::From::Newest);

  auto members = app::parse_api_target("GET", "/api/v1/rooms/lobby/members", "after=b%20b");
  ASSERT_TRUE(members);
  EXPECT_EQ(members->endpoint, E::ListMembers);
  EXPECT_EQ(members->after, "b b");
  EXPECT_EQ(members->limit, 100u);

  auto kick = app::parse_api_target("DELETE", "/api/v1/rooms/lobby/members/u%2F1%20x", "");
  ASSERT_TRUE(kick);
  EXPECT_EQ(kick->endpoint, E::KickMember);
  EXPECT_EQ(kick->user, "u/1 x");
}

TEST(ApiRoute, RoomsArePercentDecodedAndMadeNfc) {
  // "café" written with a combining accent, percent-encoded.
  auto t = app::parse_api_target("GET", "/api/v1/rooms/cafe%CC%81/messages", "");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->room, "caf\u00e9");
  auto cjk = app::parse_api_target("GET", "/api/v1/rooms/%E8%81%8A%E5%A4%A9/members", "");
  ASSERT_TRUE(cjk);
  EXPECT_EQ(cjk->room, "聊天");
  for (const char* bad : {"/api/v1/rooms/a%20b/messages", "/api/v1/rooms/%2E%2E/messages",
                          "/api/v1/rooms/a%ZZ/messages", "/api/v1/rooms/%F0%9F%98%80/messages"}) {
    auto r = app::parse_api_target("GET", bad, "");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(code_of(r.error()), ApiErrorCode::RoomInvalid) << bad;
  }
}

TEST(ApiRoute, UnknownPathsAndMethods) {
  for (const char* path :
       {"/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/rooms", "/api/v1/rooms/", "/api/v1/room",
        "/api/v1/rooms/a", "/api/v1/rooms/a/messages/", "/api/v1/rooms//messages",
        "/api/v1/rooms/a/members/u/x"}) {
    auto r = app::parse_api_target("GET", path, "");
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(code_of(r.error()), ApiErrorCode::NotFound) << path;
    EXPECT_EQ(app::api_allowed_methods(path), "") << path;
  }
  struct Case {
    const char* method;
    const char* path;
    const char* allow;
  };
  for (const Case& c : {Case{"PUT", "/api/v1/rooms/a/messages", "GET, POST"},
                        Case{"DELETE", "/api/v1/rooms/a/messages", "GET, POST"},
                        Case{"HEAD", "/api/v1/rooms", "GET"}, Case{"POST", "/api/v1/rooms", "GET"},
                        Case{"POST", "/api/v1/rooms/a/members", "GET"},
                        Case{"GET", "/api/v1/rooms/a/members/u", "DELETE"}}) {
    auto r = app::parse_api_target(c.method, c.path, "");
    ASSERT_FALSE(r) << c.method << ' ' << c.path;
    EXPECT_EQ(code_of(r.error()), ApiErrorCode::MethodNotAllowed);
    EXPECT_EQ(app::api_allowed_methods(c.path), c.allow);
  }
  EXPECT_TRUE(app::is_api_path("/api"));
  EXPECT_TRUE(app::is_api_path("/api/x"));
  EXPECT_FALSE(app::is_api_path("/apix"));
}

TEST(ApiRoute, RefusesBadQueries) {
  const std::pair<const char*, const char*> cases[] = {
      {"/api/v1/rooms/a/messages", "before=1&after=2"},
      {"/api/v1/rooms/a/messages", "before=0"},
      {"/api/v1/rooms/a/messages", "before=9007199254740993"},
      {"/api/v1/rooms/a/messages", "limit=0"},
      {"/api/v1/rooms/a/messages", "limit=201"},
      {"/api/v1/rooms/a/messages", "limit=-1"},
      {"/api/v1/rooms/a/messages", "limit=1e2"},
      {"/api/v1/rooms/a/messages", "limit="},
      {"/api/v1/rooms/a/messages", "limit=1&limit=2"},
      {"/api/v1/rooms/a/messages", "befor=1"},
      {"/api/v1/rooms/a/messages", "after=%zz"},
      {"/api/v1/rooms/a/messages", "%ff=1"},
      {"/api/v1/rooms/a/members", "limit=501"},
      {"/api/v1/rooms/a/members", "after=%ff"},
      {"/api/v1/rooms", "order=size"},
      {"/api/v1/rooms", "limit=101"},
      {"/api/v1/rooms/a/members/u", "x=1"},
  };
  for (const auto& [path, query] : cases) {
    const char* method = std::string_view(path).ends_with("/u") ? "DELETE" : "GET";
    auto r = app::parse_api_target(method, path, query);
    ASSERT_FALSE(r) << path << '?' << query;
    EXPECT_EQ(code_of(r.error()), ApiErrorCode::BadRequest) << path << '?' << query;
  }
  auto user = app::parse_api_target("DELETE", "/api/v1/rooms/a/members/%ff", "");
  ASSERT_FALSE(user);
  EXPECT_EQ(code_of(user.error()), ApiErrorCode::UserInvalid);
}

// --- keys --------------------------------------------------------------------

TEST(ApiKeys, LoadsNamedAndUnnamedKeys) {
  auto keys = app::ApiKeys::parse(
      "# comment\n\nbackend  0123456789abcdef-one\r\n  0123456789abcdef-two\t\n");
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->match("0123456789abcdef-one"), "backend");
  auto unnamed = keys->match("0123456789abcdef-two");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->size(), 12u);  // key- and 8 hex digits of its SHA-256
  EXPECT_TRUE(unnamed->starts_with("key-"));
  // The same key is named the same every time.
  EXPECT_EQ(app::ApiKeys::parse("0123456789abcdef-two")->match("0123456789abcdef-two"), unnamed);
  EXPECT_FALSE(keys->match("0123456789abcdef-on"));
  EXPECT_FALSE(keys->match(""));
  EXPECT_FALSE(keys->match("backend"));
}

TEST(ApiKeys, RefusesBadFiles) {
  for (const char* text :
       {"", "# only a comment\n", "short\n", "a b 0123456789abcdef\n",
        "bad/name 0123456789abcdef\n", "0123456789abcdef\n0123456789abcdef\n",
        "x 0123456789abcdef-1\nx 0123456789abcdef-2\n", "0123456789abcdef\x01\n"}) {
    EXPECT_FALSE(app::ApiKeys::parse(text)) << text;
  }
  auto missing = app::ApiKeys::load("/nonexistent/keys");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/keys"), std::string::npos);
}

TEST(ApiKeys, ReadsBearerTokens) {
  EXPECT_EQ(app::bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(app::bearer_token("bearer   abc"), "abc");
  EXPECT_EQ(app::bearer_token("BEARER abc"), "abc");
  EXPECT_FALSE(app::bearer_token("Bearer"));
  EXPECT_FALSE(app::bearer_token("Bearer "));
  EXPECT_FALSE(app::bearer_token("Bearerabc"));
  EXPECT_FALSE(app::bearer_token("Basic abc"));
  EXPECT_FALSE(app::bearer_token("Bearer a b"));
}

// --- limits ------------------------------------------------------------------

TEST(ApiLimiter, KeysHaveABurstAndARate) {
  app::ApiLimiter limiter(2, 3);
  auto t0 = app::ApiLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take_key("a", t0), 0);
  EXPECT_EQ(limiter.take_key("a", t0), 1);  // half a second away, rounded up
  EXPECT_EQ(limiter.take_key("b", t0), 0);  // another key, another bucket
  EXPECT_EQ(limiter.take_key("a", t0 + std::chrono::milliseconds(500)), 0);
  EXPECT_EQ(limiter.take_key("a", t0 + std::chrono::milliseconds(500)), 1);
  app::ApiLimiter slow(0.25, 1);
  EXPECT_EQ(slow.take_key("k", t0), 0);
  EXPECT_EQ(slow.take_key("k", t0), 4);
}

TEST(ApiLimiter, FailuresPerAddressAreBounded) {
  app::ApiLimiter limiter(100, 100);
  auto t0 = app::ApiLimiter::Clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.take_failure("192.0.2.1", t0), 0);
  EXPECT_GE(limiter.take_failure("192.0.2.1", t0), 1);
  EXPECT_EQ(limiter.take_failure("192.0.2.2", t0), 0);
  EXPECT_EQ(limiter.take_failure("192.0.2.1", t0 + std::chrono::seconds(1)), 0);
  // Far more addresses than are kept: the map stays bounded and still works.
  for (std::size_t i = 0; i < 3 * app::ApiLimiter::kMaxAddresses; ++i) {
    limiter.take_failure("10." + std::to_string(i), t0 + std::chrono::seconds(2));
    ASSERT_LE(limiter.addresses(), app::ApiLimiter::kMaxAddresses);
  }
  EXPECT_EQ(limiter.take_failure("10.1", t0 + std::chrono::seconds(60)), 0);
}

}  // namespace
}  // namespace parley
