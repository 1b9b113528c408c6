// A cluster room's RoomMembers (docs/SCALING.md, "Presence"): this node's
// connections, and a mirror of the shared roster that only the roster's
// changes (apply) and reads (reset) move; and the codec of those changes.
#include <gtest/gtest.h>

#include "chat/redis_codec.h"
#include "chat/room_members.h"

namespace parley::chat {
namespace {

PresenceChangeEvent change(uint64_t seq, PresenceKind kind, std::string user, std::string name,
                           uint64_t user_connections, uint64_t connections, uint64_t users,
                           bool user_changed) {
  PresenceChangeEvent e;
  e.seq = seq;
  e.kind = kind;
  e.user = std::move(user);
  e.name = std::move(name);
  e.user_connections = user_connections;
  e.connections = connections;
  e.users = users;
  e.user_changed = user_changed;
  return e;
}

TEST(ClusterRoster, LocalConnectionsDoNotNameOrCountUsers) {
  RoomMembers m(1, /*cluster=*/true);
  m.add({0, 1, 0}, "u1", "ann", Protocol::Json);
  m.add({0, 2, 0}, "u1", "ann", Protocol::Json);
  EXPECT_EQ(m.name_of("u1"), "ann");  // the name asked for, until the roster names it
  EXPECT_EQ(m.users(), 0u);
  EXPECT_EQ(m.connections(), 0u);
  EXPECT_EQ(m.local_connections_of("u1"), 2u);
  // A rename is the roster's business too.
  EXPECT_FALSE(m.rename("u1", "anna"));
  m.remove({0, 2, 0});
  EXPECT_EQ(m.local_connections_of("u1"), 1u);
  auto local = m.local_users();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].name, "ann");  // the wanted name, for a resync before any change
  EXPECT_EQ(local[0].connections, 1u);
}

TEST(ClusterRoster, ChangesMoveTheMirror) {
  RoomMembers m(1, true);
  m.add({0, 1, 0}, "u1", "ann", Protocol::Json);
  m.apply(change(1, PresenceKind::Joined, "u1", "ann", 1, 1, 1, true));
  m.apply(change(2, PresenceKind::Joined, "u2", "ann-2", 1, 2, 2, true));  // another node's
  m.apply(change(3, PresenceKind::Joined, "u2", "ann-2", 2, 3, 2, false));
  EXPECT_EQ(m.name_of("u2"), "ann-2");
  EXPECT_EQ(m.connections_of("u2"), 2u);
  EXPECT_EQ(m.connections(), 3u);
  EXPECT_EQ(m.users(), 2u);
  auto page = m.page({}, 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].name, "ann");
  EXPECT_EQ(page[1].name, "ann-2");

  PresenceChangeEvent r = change(4, PresenceKind::Renamed, "u1", "zed", 1, 3, 2, true);
  r.old_name = "ann";
  m.apply(r);
  EXPECT_EQ(m.name_of("u1"), "zed");
  EXPECT_EQ(m.page({}, 10)[0].name, "ann-2");
  EXPECT_EQ(m.local_users()[0].name, "zed");

  // The other node's user goes (its node died): name and counts with it.
  m.apply(change(5, PresenceKind::Left, "u2", "ann-2", 0, 1, 1, true));
  EXPECT_EQ(m.name_of("u2"), "");
  EXPECT_EQ(m.users(), 1u);
  EXPECT_EQ(m.connections(), 1u);
  ASSERT_EQ(m.page({}, 10).size(), 1u);
}

TEST(ClusterRoster, AReadReplacesTheMirror) {
  RoomMembers m(1, true);
  m.apply(change(1, PresenceKind::Joined, "gone", "old", 1, 1, 1, true));
  RosterSnapshot s;
  s.seq = 9;
  s.connections = 3;
  s.users = {{"u1", "ann", 2}, {"u2", "bob", 1}};
  m.reset(s);
  EXPECT_EQ(m.name_of("gone"), "");
  EXPECT_EQ(m.name_of("u1"), "ann");
  EXPECT_EQ(m.connections_of("u1"), 2u);
  EXPECT_EQ(m.connections(), 3u);
  EXPECT_EQ(m.users(), 2u);
}

TEST(RedisCodec, PresenceChangesAsTheScriptsWriteThem) {
  const std::string joined =
      R"({"p":"j","u":"u-1","f":"ann \"the\" 1st","uc":1,"x":1,"s":7,"c":3,"k":2})";
  ASSERT_TRUE(redis_codec::is_presence(joined));
  auto e = redis_codec::decode_presence(joined);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->seq, 7u);
  EXPECT_EQ(e->kind, PresenceKind::Joined);
  EXPECT_EQ(e->name, "ann \"the\" 1st");
  EXPECT_EQ(e->connections, 3u);
  EXPECT_EQ(e->users, 2u);
  EXPECT_TRUE(e->user_changed);
  auto r = redis_codec::decode_presence(
      R"({"p":"r","u":"u-1","f":"b","o":"a","uc":1,"x":1,"s":8,"c":3,"k":2})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, PresenceKind::Renamed);
  EXPECT_EQ(r->old_name, "a");
  // A message event is not a presence change; broken ones are refused.
  EXPECT_FALSE(
      redis_codec::is_presence(R"({"id":1,"ts":2,"n":"x","u":"u","f":"f","c":"","t":"t"})"));
  EXPECT_FALSE(
      redis_codec::decode_presence(R"({"p":"q","u":"u","f":"f","uc":1,"x":1,"s":1,"c":1,"k":1})"));
  EXPECT_FALSE(
      redis_codec::decode_presence(R"({"p":"r","u":"u","f":"f","uc":1,"x":1,"s":1,"c":1,"k":1})"));
  EXPECT_FALSE(redis_codec::decode_presence("not json"));
}

}  // namespace
}  // namespace parley::chat
