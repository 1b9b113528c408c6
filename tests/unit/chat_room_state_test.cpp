// The pieces a RoomHome is made of: RoomMembers (names, counts, indexes),
// RoomCache (what it may answer, byte budgets) and MemoryHistory (the
// History every backend must behave like).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/memory_history.h"
#include "chat/room_cache.h"
#include "chat/room_members.h"

namespace parley::chat {
namespace {

Message msg(uint64_t id, std::size_t text_bytes = 8) {
  return Message{id, 0, "u", "n", "", std::string(text_bytes, 't')};
}

TEST(RoomMembers, NamesAreUniquePerUserWithSuffixes) {
  RoomMembers m(1);
  m.add({0, 1, 0}, "u1", "alice", Protocol::Json);
  m.add({0, 2, 0}, "u2", "alice", Protocol::Json);
  m.add({0, 3, 0}, "u3", "alice", Protocol::Json);
  EXPECT_EQ(m.name_of("u1"), "alice");
  EXPECT_EQ(m.name_of("u2"), "alice-2");
  EXPECT_EQ(m.name_of("u3"), "alice-3");
  // A second connection of the same user keeps the user's name.
  m.add({0, 4, 0}, "u2", "whatever", Protocol::Json);
  EXPECT_EQ(m.name_of("u2"), "alice-2");
  EXPECT_EQ(m.connections_of("u2"), 2u);
  EXPECT_EQ(m.connections(), 4u);
  EXPECT_EQ(m.users(), 3u);
}

TEST(RoomMembers, ASuffixAlreadyTakenLiterallyIsSkipped) {
  RoomMembers m(1);
  m.add({0, 1, 0}, "u1", "bob", Protocol::Json);
  m.add({0, 2, 0}, "u2", "bob-2", Protocol::Json);
  m.add({0, 3, 0}, "u3", "bob", Protocol::Json);
  EXPECT_EQ(m.name_of("u3"), "bob-3");
}

TEST(RoomMembers, AFreedNameIsGivenOutAgainAndRenamesStayUnique) {
  RoomMembers m(1);
  m.add({0, 1, 0}, "u1", "kim", Protocol::Json);
  m.add({0, 2, 0}, "u2", "kim", Protocol::Json);
  ASSERT_TRUE(m.remove({0, 1, 0}));
  EXPECT_EQ(m.users(), 1u);
  m.add({0, 3, 0}, "u3", "kim", Protocol::Json);
  EXPECT_EQ(m.name_of("u3"), "kim");
  EXPECT_EQ(m.rename("u2", "kim"), std::nullopt);  // unchanged: kim-2 is still unique
  EXPECT_EQ(m.rename("u2", "lee"), std::optional<std::string>("kim-2"));
  EXPECT_EQ(m.name_of("u2"), "lee");
  auto page = m.page({}, 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].name, "kim");
  EXPECT_EQ(page[1].name, "lee");
  EXPECT_EQ(m.page("kim", 10).size(), 1u);
}

TEST(RoomMembers, ActiveMembersAreCountedPerLoopAndProtocol) {
  RoomMembers m(2);
  m.activate(m.add({0, 1, 0}, "u1", "a", Protocol::Json), 0);
  m.activate(m.add({1, 1, 0}, "u2", "b", Protocol::PlainText), 0);
  m.add({1, 2, 0}, "u3", "c", Protocol::Json);  // not yet active
  EXPECT_EQ(m.active_per_loop()[0], 1u);
  EXPECT_EQ(m.active_per_loop()[1], 1u);
  EXPECT_EQ(m.active_with(Protocol::PlainText), 1u);
  EXPECT_TRUE(m.remove({1, 1, 0}));
  EXPECT_EQ(m.active_per_loop()[1], 0u);
  EXPECT_FALSE(m.remove({1, 1, 0}));
  EXPECT_EQ(m.connections(), 2u);
}

TEST(RoomMembers, MembersHoldingAMessageAreFoundOnlyWhenSomeoneCould) {
  RoomMembers m(1);
  m.activate(m.add({0, 1, 0}, "u1", "a", Protocol::Json), 10);
  m.activate(m.add({0, 2, 0}, "u2", "b", Protocol::Json), 5);
  EXPECT_TRUE(m.holding(11, {}).empty());
  EXPECT_EQ(m.holding(7, {}).size(), 1u);
  EXPECT_EQ(m.holding(5, {0, 1, 0}).size(), 1u);
}

TEST(RoomCache, AnswersOnlyWhatItFullyHolds) {
  CacheBudget budget(0);
  RoomCache cache(100, {3, 0, 0}, budget);  // 100 messages before this process, none cached
  EXPECT_FALSE(cache.read({PageQuery::From::Newest, 0, 2}));
  EXPECT_FALSE(cache.read({PageQuery::From::After, 99, 10}));
  auto nothing_new = cache.read({PageQuery::From::After, 100, 10});
  ASSERT_TRUE(nothing_new);
  EXPECT_TRUE(nothing_new->messages.empty());
  EXPECT_FALSE(nothing_new->truncated);
  for (uint64_t id = 101; id <= 105; ++id) cache.append(msg(id));
  EXPECT_EQ(cache.last_id(), 105u);
  // Capacity 3: holds 103..105.
  auto recent = cache.read({PageQuery::From::Newest, 0, 3});
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->messages.front().id, 103u);
  EXPECT_TRUE(recent->truncated);
  EXPECT_FALSE(cache.read({PageQuery::From::Newest, 0, 4}));
  EXPECT_FALSE(cache.read({PageQuery::From::After, 101, 10}));
  auto after = cache.read({PageQuery::From::After, 102, 2});
  ASSERT_TRUE(after);
  ASSERT_EQ(after->messages.size(), 2u);
  EXPECT_EQ(after->messages[0].id, 103u);
  EXPECT_TRUE(after->truncated);
  auto before = cache.read({PageQuery::From::Before, 105, 2});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->messages.front().id, 103u);
  EXPECT_FALSE(cache.read({PageQuery::From::Before, 104, 2}));
}

TEST(RoomCache, WarmPrependsAPageThatEndsWhereTheCacheBegins) {
  CacheBudget budget(0);
  RoomCache cache(10, {100, 0, 0}, budget);
  cache.append(msg(11));
  cache.warm({msg(8), msg(9), msg(10)});
  auto after = cache.read({PageQuery::From::After, 7, 100});
  ASSERT_TRUE(after);
  ASSERT_EQ(after->messages.size(), 4u);
  EXPECT_EQ(after->messages.front().id, 8u);
  cache.warm({msg(5), msg(6)});  // does not end at 7: ignored
  EXPECT_FALSE(cache.read({PageQuery::From::After, 4, 100}));
}

TEST(RoomCache, BoundedInBytesPerRoomAndAcrossRoomsLeastRecentlyUsedFirst) {
  CacheBudget budget(3 * msg(1, 1000).bytes());
  RoomCache a(0, {256, 2 * msg(1, 1000).bytes(), 0}, budget);
  RoomCache b(0, {256, 0, 0}, budget);
  for (uint64_t id = 1; id <= 5; ++id) a.append(msg(id, 1000));
  EXPECT_EQ(a.size(), 2u);  // the room's own budget
  b.append(msg(1, 1000));
  b.append(msg(2, 1000));  // the loop's budget: a, least recently used, gives way
  EXPECT_LE(budget.bytes(), 3 * msg(1, 1000).bytes());
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_GE(budget.evicted_messages(), 1u);
  // What a still answers is still exact: only its newest message.
  EXPECT_FALSE(a.read({PageQuery::From::After, 3, 10}));
  auto tail = a.read({PageQuery::From::After, 4, 10});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->messages.size(), 1u);
}

TEST(MemoryHistory, AssignsIdsDedupsAndPages) {
  MemoryHistory h({0, 0});
  std::vector<Appended> acks;
  auto keep = [&](Result<Appended> r) { acks.push_back(*r); };
  h.append("r", Message{0, 0, "u1", "a", "c1", "one"}, keep);
  h.append("r", Message{0, 0, "u1", "a", "c2", "two"}, keep);
  h.append("r", Message{0, 0, "u1", "a", "c1", "one again"}, keep);
  h.append("s", Message{0, 0, "u1", "a", "c1", "other room"}, keep);
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(acks[1].id, 2u);
  EXPECT_TRUE(acks[2].duplicate);
  EXPECT_EQ(acks[2].id, 1u);
  EXPECT_EQ(acks[3].id, 1u);
  Page page;
  h.read("r", {PageQuery::From::Before, 2, 10}, [&](Result<Page> p) { page = std::move(*p); });
  ASSERT_EQ(page.messages.size(), 1u);
  EXPECT_EQ(page.messages[0].text, "one");
  EXPECT_FALSE(page.truncated);
}

TEST(MemoryHistory, RetainsPerRoomAndEvictsTheLargestRoomPastItsBytes) {
  const std::size_t one = msg(1, 1000).bytes();
  MemoryHistory h({3, 4 * one});
  auto ignore = [](Result<Appended>) {};
  for (int i = 0; i < 5; ++i) h.append("big", msg(0, 1000), ignore);
  EXPECT_LE(h.bytes(), 4 * one);
  h.append("small", msg(0, 1000), ignore);
  h.append("small", msg(0, 1000), ignore);
  EXPECT_LE(h.bytes(), 4 * one);
  Page big, small;
  h.read("big", {PageQuery::From::Newest, 0, 10}, [&](Result<Page> p) { big = std::move(*p); });
  h.read("small", {PageQuery::From::Newest, 0, 10}, [&](Result<Page> p) { small = std::move(*p); });
  EXPECT_EQ(small.messages.size(), 2u);
  EXPECT_EQ(big.messages.size(), 2u);  // 3 kept by count, then one for the bytes
  EXPECT_EQ(big.messages.back().id, 5u);
  EXPECT_EQ(h.last_ids(),
            (std::vector<std::pair<std::string, uint64_t>>{{"big", 5}, {"small", 2}}));
}

// Whatever the cache answers, the History would have answered the same.
TEST(RoomCache, AnswersExactlyLikeTheHistory) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::size_t retain = rng() % 3 == 0 ? 0 : 5 + rng() % 30;
    MemoryHistory history({retain, 0});
    CacheBudget budget(0);
    uint64_t start = 0;
    for (std::size_t i = 0, n = rng() % 40; i < n; ++i) {
      history.append("r", msg(0), [&](Result<Appended> r) { start = r->id; });
    }
    RoomCache cache(start, {1 + rng() % 20, 0, retain}, budget);
    for (std::size_t i = 0, n = rng() % 60; i < n; ++i) {
      history.append("r", msg(0), [&](Result<Appended> r) { cache.append(msg(r->id)); });
    }
    for (int q = 0; q < 20; ++q) {
      PageQuery query{static_cast<PageQuery::From>(rng() % 3), rng() % (cache.last_id() + 3),
                      1 + rng() % 15};
      auto cached = cache.read(query);
      if (!cached) continue;
      Page truth;
      history.read("r", query, [&](Result<Page> p) { truth = std::move(*p); });
      std::vector<uint64_t> got, want;
      for (auto& m : cached->messages) got.push_back(m.id);
      for (auto& m : truth.messages) want.push_back(m.id);
      ASSERT_EQ(got, want) << "round " << round << " query " << static_cast<int>(query.from)
                           << " anchor " << query.anchor << " limit " << query.limit;
      ASSERT_EQ(cached->truncated, truth.truncated) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace parley::chat
