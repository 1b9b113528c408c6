// The Redis engine's pure parts: the URL of --redis and how a room is laid
// out in Redis (keys, stored JSON, published events). The engine itself is
// tested against a real redis-server (tests/integration/test_redis_cluster.py).
#include <gtest/gtest.h>

#include "chat/redis_codec.h"
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

}  // namespace
}  // namespace parley
