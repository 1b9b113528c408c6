// The Redis engine's pure parts: the URL of --redis and how a room is laid
// out in Redis (keys, stored JSON, published events). The engine itself is
// tested against a real redis-server (tests/integration/test_redis_cluster.py).
#include <gtest/gtest.h>

#include "chat/redis_codec.h"
#include "chat/redis_log_scripts.h"
#include "store/redis/url.h"

namespace parley {
namespace {

TEST(RedisUrl, HostPortDatabaseAndCredentials) {
  Result<redis::Endpoint> e = redis::parse_url("redis://app:s%40cret@10.0.0.5:6380/3");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->host, "10.0.0.5");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);
  EXPECT_EQ(e->user, "app");
  EXPECT_EQ(e->password, "s@cret");
  EXPECT_EQ(e->describe().find("s@cret"), std::string::npos) << "a password in a log line";
}

TEST(RedisUrl, DefaultsAndUnixSockets) {
  Result<redis::Endpoint> e = redis::parse_url("redis://localhost");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  EXPECT_TRUE(e->password.empty());

  Result<redis::Endpoint> u = redis::parse_url("unix:///run/redis/redis.sock?db=2");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(u->db, 2);
}

TEST(RedisUrl, RefusesWhatItCannotServe) {
  for (const char* bad :
       {"rediss://host:6380", "http://host", "redis://host:0", "redis://host:70000",
        "redis://host/x", "redis://", "unix://relative.sock", "redis://%zz@host"}) {
    Result<redis::Endpoint> e = redis::parse_url(bad);
    EXPECT_FALSE(e) << bad;
    if (!e) {
      EXPECT_FALSE(e.error().message.empty()) << bad;
    }
  }
}

TEST(RedisUrl, ErrorsNeverShowThePassword) {
  Result<redis::Endpoint> e = redis::parse_url("redis://app:hunter2@host:0");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message.find("hunter2"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("@host:0"), std::string::npos) << e.error().message;
}

TEST(RedisCodec, ARoomsKeysShareOneHashTag) {
  chat::redis_codec::RoomKeys k = chat::redis_codec::keys_of("lobby");
  EXPECT_EQ(k.seq, "parley:{lobby}:seq");
  EXPECT_EQ(k.log, "parley:{lobby}:log");
  EXPECT_EQ(k.channel, "parley:{lobby}:ev");
  // A brace in the name would end the tag early: the name goes in as hex.
  chat::redis_codec::RoomKeys b = chat::redis_codec::keys_of("a}b");
  EXPECT_EQ(b.log, "parley:{#617d62}:log");
  // The user's length goes first, so no (user, client id) pair aliases another.
  EXPECT_NE(chat::redis_codec::dedup_key(k, "u:1", "x"),
            chat::redis_codec::dedup_key(k, "u", "1:x"));
}

TEST(RedisCodec, APublishedEventRoundTrips) {
  chat::Message m{0, 0, "u1", "Zoë \"the\" \\ one", "c-1", "line\nnext \x01 end 你好"};
  std::string body = chat::redis_codec::encode_body(m);
  // The Lua script prepends id, ts and the node to the stored body.
  std::string payload = R"({"id":42,"ts":1700000000123,"n":"web1",)" + body.substr(1);
  std::optional<chat::redis_codec::Published> p = chat::redis_codec::decode_published(payload);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node, "web1");
  EXPECT_EQ(p->message.id, 42u);
  EXPECT_EQ(p->message.ts_ms, 1700000000123);
  EXPECT_EQ(p->message.user, m.user);
  EXPECT_EQ(p->message.from, m.from);
  EXPECT_EQ(p->message.client_id, m.client_id);
  EXPECT_EQ(p->message.text, m.text);
}

TEST(RedisCodec, MalformedEventsAreRefused) {
  for (const char* bad : {"", "[]", "{", R"({"id":1,"ts":2,"n":"x"})",
                          R"({"id":"1","ts":2,"n":"x","u":"","f":"","c":"","t":""})"}) {
    EXPECT_FALSE(chat::redis_codec::decode_published(bad)) << bad;
  }
}

TEST(RedisCodec, AChangeIsStoredWithItsKindFirstAndItsTarget) {
  chat::Message edit{0, 0, "u1", "ann", "c-2", "new text"};
  edit.kind = chat::EntryKind::Edit;
  edit.target = 7;
  std::string body = chat::redis_codec::encode_body(edit);
  // The read script tells a change from a message by these first bytes.
  EXPECT_EQ(body.substr(0, 5), R"({"k":)");
  EXPECT_NE(chat::redis_codec::encode_body(chat::Message{0, 0, "u1", "ann", "c", "t"}).substr(0, 5),
            R"({"k":)");
  // The append script adds the count of a reaction; the event its id, ts, node.
  chat::Message react = edit;
  react.kind = chat::EntryKind::Unreact;
  react.text = "👍";
  std::string stored = chat::redis_codec::encode_body(react);
  stored = stored.substr(0, stored.size() - 1) + R"(,"nr":3})";
  auto p = chat::redis_codec::decode_published(R"({"id":9,"ts":5,"n":"web1",)" + stored.substr(1));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message.kind, chat::EntryKind::Unreact);
  EXPECT_EQ(p->message.target, 7u);
  EXPECT_EQ(p->message.count, 3u);
  EXPECT_EQ(p->message.text, "👍");
  EXPECT_FALSE(p->message.is_message());
}

TEST(RedisCodec, AReplyCarriesTheQuoteTheScriptTook) {
  std::string body = chat::redis_codec::encode_body(chat::Message{0, 0, "u2", "bob", "c", "re"});
  std::string quote = R"({"i":4,"u":"u1","f":"ann","t":"hi \"you\"","d":0})";
  std::optional<chat::Quote> q = chat::redis_codec::decode_quote(quote);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 4u);
  EXPECT_EQ(q->text, "hi \"you\"");
  EXPECT_FALSE(q->deleted);
  std::string stored = body.substr(0, body.size() - 1) + R"(,"q":)" + quote + "}";
  auto p = chat::redis_codec::decode_published(R"({"id":9,"ts":5,"n":"w",)" + stored.substr(1));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message.reply.id, 4u);
  EXPECT_EQ(p->message.reply.from, "ann");
  EXPECT_FALSE(chat::redis_codec::decode_quote(R"({"i":0,"u":"","f":"","t":"","d":0})"));
}

TEST(RedisCodec, AnAttachmentsDescriptionRoundTrips) {
  chat::Message m{0, 0, "u1", "ann", "c", "our cat"};
  m.attachment =
      chat::Attachment{std::string(64, 'a'), "cat \"1\".png", 48213, "image/png", 640, 480};
  std::string body = chat::redis_codec::encode_body(m);
  auto p = chat::redis_codec::decode_published(R"({"id":3,"ts":5,"n":"w",)" + body.substr(1));
  ASSERT_TRUE(p);
  const chat::Attachment& a = p->message.attachment;
  EXPECT_EQ(a.file, m.attachment.file);
  EXPECT_EQ(a.name, m.attachment.name);
  EXPECT_EQ(a.size, 48213u);
  EXPECT_EQ(a.type, "image/png");
  EXPECT_EQ(a.width, 640u);
  EXPECT_EQ(a.height, 480u);
}

TEST(RedisCodec, AStateBringsAMessageToItsCurrentState) {
  chat::Message m{4, 100, "u1", "ann", "c", "first"};
  m.reply.id = 2;
  m.reply.text = "quoted";
  // As cjson writes it: any key order, "/" escaped.
  ASSERT_TRUE(chat::redis_codec::apply_state(
      m, R"({"x":[["👍",["u2","u3"]],["🎉",["u1"]]],"v":9,"e":1700000000123,"t":"a\/b","q":1})"));
  EXPECT_EQ(m.text, "a/b");
  EXPECT_EQ(m.edited_ms, 1700000000123);
  EXPECT_EQ(m.rev, 9u);
  ASSERT_EQ(m.reactions.size(), 2u);
  EXPECT_EQ(m.reactions[0].emoji, "👍");
  EXPECT_EQ(m.reactions[0].users, (std::vector<std::string>{"u2", "u3"}));
  EXPECT_TRUE(m.reply.deleted);
  EXPECT_EQ(m.reply.text, "");

  chat::Message d{4, 100, "u1", "ann", "c", "first"};
  d.reply.id = 2;
  ASSERT_TRUE(chat::redis_codec::apply_state(d, R"({"d":1,"v":12})"));
  EXPECT_TRUE(d.deleted);
  EXPECT_EQ(d.text, "");
  EXPECT_EQ(d.reply.id, 0u);  // a tombstone shows no quote
  EXPECT_EQ(d.rev, 12u);

  EXPECT_FALSE(chat::redis_codec::apply_state(d, "["));
  EXPECT_FALSE(chat::redis_codec::apply_state(d, R"({"x":[["👍"]]})"));
}

TEST(RedisLogScripts, AppendCallNamesTheRoomsKeysAndTheRules) {
  chat::redis_codec::RoomKeys k = chat::redis_codec::keys_of("lobby");
  EXPECT_EQ(k.state, "parley:{lobby}:st");
  EXPECT_EQ(k.replies, "parley:{lobby}:rq");
  EXPECT_EQ(k.changed, "parley:{lobby}:sx");
  chat::redis_log::AppendSettings settings{"\"web1\"", 500, 0, 3600, {20, 1000, 100}};

  chat::Message react{0, 0, "u1", "ann", "c-3", "👍"};
  react.kind = chat::EntryKind::React;
  react.target = 12;
  chat::redis_log::Call c = chat::redis_log::append_call(k, react, settings);
  // Every key the script touches is named (and shares the room's hash tag).
  ASSERT_EQ(c.keys.size(), 6u);
  EXPECT_EQ(c.keys[5], chat::redis_codec::dedup_key(k, "u1", "c-3"));
  for (const std::string& key : c.keys) EXPECT_EQ(key.rfind("parley:{lobby}:", 0), 0u) << key;
  ASSERT_EQ(c.args.size(), 13u);
  EXPECT_EQ(c.args[0], "500");
  EXPECT_EQ(c.args[3], k.channel);
  EXPECT_EQ(c.args[4], "\"web1\"");
  EXPECT_EQ(c.args[5], chat::redis_codec::encode_body(react));
  EXPECT_EQ(c.args[6], "r");
  EXPECT_EQ(c.args[7], "12");
  EXPECT_EQ(c.args[8], "u1");
  EXPECT_EQ(c.args[9], "👍");
  EXPECT_EQ((std::vector<std::string>(c.args.begin() + 10, c.args.end())),
            (std::vector<std::string>{"100", "20", "1000"}));

  // A plain-text message: no dedup key; a reply names what it quotes.
  chat::Message reply{0, 0, "g-1", "guest-1", "", "re"};
  reply.reply.id = 3;
  c = chat::redis_log::append_call(k, reply, settings);
  EXPECT_EQ(c.keys.size(), 5u);
  EXPECT_EQ(c.args[6], "m");
  EXPECT_EQ(c.args[7], "3");
  EXPECT_EQ(chat::redis_log::append_call(k, chat::Message{}, settings).args[7], "0");
}

TEST(RedisLogScripts, ReadCallNamesTheLogAndTheStates) {
  chat::redis_codec::RoomKeys k = chat::redis_codec::keys_of("lobby");
  chat::redis_log::Call c = chat::redis_log::read_call(k, "m<", "(7-0", 50);
  EXPECT_EQ(c.keys, (std::vector<std::string>{k.log, k.state}));
  EXPECT_EQ(c.args, (std::vector<std::string>{"m<", "(7-0", "50"}));
}

}  // namespace
}  // namespace parley
