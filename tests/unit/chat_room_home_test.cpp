#include "chat/room_home.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::chat {
namespace {

ChatMessage msg(uint64_t id) {
  return ChatMessage{id, 0, "u", "n", "", "t" + std::to_string(id)};
}

TEST(RoomHome, NamesAreUniquePerUserWithSuffixes) {
  RoomHome home("r", 0, 10, 1);
  EXPECT_EQ(home.add({0, 1, 0}, "u1", "alice", Protocol::Json).name, "alice");
  EXPECT_EQ(home.add({0, 2, 0}, "u2", "alice", Protocol::Json).name, "alice-2");
  EXPECT_EQ(home.add({0, 3, 0}, "u3", "alice", Protocol::Json).name, "alice-3");
  // A second connection of the same user keeps the user's name.
  EXPECT_EQ(home.add({0, 4, 0}, "u2", "whatever", Protocol::Json).name, "alice-2");
  EXPECT_EQ(home.connections_of("u2"), 2u);
}

TEST(RoomHome, CacheAnswersOnlyWhatItFullyHolds) {
  RoomHome home("r", 100, 3, 1);  // 100 messages before this process, none cached
  EXPECT_FALSE(home.cached_recent(2));
  EXPECT_FALSE(home.cached_after(99, 10));
  ASSERT_TRUE(home.cached_after(100, 10));
  EXPECT_TRUE(home.cached_after(100, 10)->empty());
  for (uint64_t id = 101; id <= 105; ++id) home.append(msg(id));
  EXPECT_EQ(home.last_id(), 105u);
  // Capacity 3: holds 103..105.
  auto recent = home.cached_recent(3);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->front().id, 103u);
  EXPECT_FALSE(home.cached_recent(4));
  EXPECT_FALSE(home.cached_after(101, 10));
  auto after = home.cached_after(102, 2);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, 103u);
  EXPECT_EQ((*after)[1].id, 104u);
}

TEST(RoomHome, NewRoomCacheReachesBackToTheStart) {
  RoomHome home("r", 0, 10, 1);
  home.append(msg(1));
  auto recent = home.cached_recent(50);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->size(), 1u);
}

TEST(RoomHome, WarmPrependsAStorePageThatEndsWhereTheCacheBegins) {
  RoomHome home("r", 10, 100, 1);
  home.append(msg(11));
  std::vector<ChatMessage> page{msg(8), msg(9), msg(10)};
  home.warm(page);
  auto after = home.cached_after(7, 100);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 4u);
  EXPECT_EQ(after->front().id, 8u);
  EXPECT_EQ(after->back().id, 11u);
}

TEST(RoomHome, EventsWaitBehindMessagesBeingStored) {
  RoomHome home("r", 0, 10, 1);
  std::vector<std::string> out;
  home.emit_in_order([&] { out.push_back("presence-1"); });  // nothing pending: at once
  uint64_t first = home.reserve_slot();
  home.emit_in_order([&] { out.push_back("left"); });
  uint64_t second = home.reserve_slot();
  home.emit_in_order([&] { out.push_back("typing"); });
  EXPECT_EQ(out, (std::vector<std::string>{"presence-1"}));
  // A later slot completing first (a history read beating a write) waits.
  home.complete_slot(second, [&] { out.push_back("message-2"); });
  EXPECT_EQ(out, (std::vector<std::string>{"presence-1"}));
  home.complete_slot(first, [&] { out.push_back("message-1"); });
  EXPECT_EQ(out,
            (std::vector<std::string>{"presence-1", "message-1", "left", "message-2", "typing"}));
}

TEST(RoomHome, ActiveMembersAreCountedPerLoop) {
  RoomHome home("r", 0, 10, 2);
  auto& a = home.add({0, 1, 0}, "u1", "a", Protocol::Json);
  home.activate(a, 0);
  auto& b = home.add({1, 1, 0}, "u2", "b", Protocol::PlainText);
  home.activate(b, 0);
  home.add({1, 2, 0}, "u3", "c", Protocol::Json);  // not yet active
  EXPECT_EQ(home.active_per_loop()[0], 1u);
  EXPECT_EQ(home.active_per_loop()[1], 1u);
  EXPECT_TRUE(home.remove({1, 1, 0}));
  EXPECT_EQ(home.active_per_loop()[1], 0u);
  EXPECT_FALSE(home.remove({1, 1, 0}));
  EXPECT_EQ(home.connections(), 2u);
}

}  // namespace
}  // namespace parley::chat
