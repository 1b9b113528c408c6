// The pieces a RoomHome is made of: RoomMembers (names, counts, indexes),
// RoomCache (what it may answer, byte budgets) and MemoryHistory (the
// History every backend must behave like).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/memory_history.h"
#include "chat/message_log.h"
#include "chat/room_cache.h"
#include "chat/room_members.h"
#include "chat/server_event.h"

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

// Members and the name index refer to the user's one entry instead of
// copying its id (memory per connection): they must follow renames and
// survive other users coming and going (rehashes of the user table).
TEST(RoomMembers, MembersAndNamesReferToTheOneCopyOfEachUserThroughChurnAndRenames) {
  RoomMembers m(1);
  const std::string long_id = "guest-123456.abcdefghijklmnop";  // past the small-string buffer
  m.add({0, 1, 0}, long_id, "guest-1", Protocol::PlainText);
  m.add({0, 2, 0}, long_id, "ignored", Protocol::Json);  // a second tab: same user, same name
  for (uint32_t i = 0; i < 200; ++i) {                   // many rehashes of users_ and members_
    m.add({0, 100 + i, 0}, "user-" + std::to_string(i) + ".padding-padding", "n", Protocol::Json);
  }
  for (uint32_t i = 0; i < 200; i += 2) ASSERT_TRUE(m.remove({0, 100 + i, 0}));
  ASSERT_NE(m.find({0, 1, 0}), nullptr);
  EXPECT_EQ(m.find({0, 1, 0})->user(), long_id);
  EXPECT_EQ(m.find({0, 2, 0})->user(), long_id);
  EXPECT_EQ(m.find({0, 101, 0})->user(), "user-1.padding-padding");
  EXPECT_EQ(m.connections_of_user(long_id).size(), 2u);

  EXPECT_EQ(m.rename(long_id, "zed"), std::optional<std::string>("guest-1"));
  auto page = m.page("z", 10);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].name, "zed");
  EXPECT_EQ(page[0].user, long_id);
  for (const MemberView& v : m.page({}, 1000)) EXPECT_NE(v.name, "guest-1");  // freed

  ASSERT_TRUE(m.remove({0, 1, 0}));
  EXPECT_EQ(m.name_of(long_id), "zed");  // its other connection keeps the user
  ASSERT_TRUE(m.remove({0, 2, 0}));
  EXPECT_EQ(m.connections_of(long_id), 0u);
  EXPECT_TRUE(m.page("z", 10).empty());  // the name went with its last connection
  EXPECT_FALSE(m.remove({0, 2, 0}));
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

// --- the room's log -------------------------------------------------------------

Message change(EntryKind kind, std::string user, uint64_t target, std::string text = {},
               std::string client_id = {}) {
  Message m{0, 0, std::move(user), "n", std::move(client_id), std::move(text)};
  m.kind = kind;
  m.target = target;
  return m;
}

Message reply(const std::string& user, uint64_t to, std::string text) {
  Message m{0, 0, user, user + "-name", "", std::move(text)};
  m.reply.id = to;
  return m;
}

// Appends and returns the result (MemoryHistory answers at once).
Result<Appended> put(History& h, const Message& m, const std::string& room = "r") {
  Result<Appended> out = Error{Errc::Internal, "no answer"};
  h.append(room, m, [&](Result<Appended> r) { out = std::move(r); });
  return out;
}

Page page(History& h, PageQuery q) {
  Page out;
  h.read("r", q, [&](Result<Page> p) { out = std::move(*p); });
  return out;
}

std::vector<uint64_t> ids(const std::vector<Message>& messages) {
  std::vector<uint64_t> out;
  for (const Message& m : messages) out.push_back(m.id);
  return out;
}

TEST(MessageLog, OnlyTheAuthorEditsOrDeletesAndADeletedMessageTakesNoChange) {
  MemoryHistory h({0, 0});
  ASSERT_TRUE(put(h, Message{0, 0, "alice", "Alice", "a1", "hello"}));
  Result<Appended> edit = put(h, change(EntryKind::Edit, "bob", 1, "pwned"));
  ASSERT_FALSE(edit);
  EXPECT_EQ(refusal_of(edit.error()), Refusal::NotAuthor);
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::Delete, "bob", 1)).error()), Refusal::NotAuthor);
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::Edit, "alice", 7, "x")).error()),
            Refusal::NotFound);
  Result<Appended> edited = put(h, change(EntryKind::Edit, "alice", 1, "hello all", "a2"));
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->id, 2u);  // a change has its own id
  // A change is not a message: it cannot be changed or answered.
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::React, "bob", 2, "👍")).error()), Refusal::NotFound);
  EXPECT_EQ(refusal_of(put(h, reply("bob", 2, "re")).error()), Refusal::NotFound);
  ASSERT_TRUE(put(h, change(EntryKind::Delete, "alice", 1)));
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::Edit, "alice", 1, "again")).error()),
            Refusal::Deleted);
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::Delete, "alice", 1)).error()), Refusal::Deleted);
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::React, "bob", 1, "👍")).error()), Refusal::Deleted);
  // Refused changes use up no id.
  Page all = page(h, {PageQuery::From::After, 0, 100});
  ASSERT_EQ(ids(all.messages), (std::vector<uint64_t>{1, 2, 3}));
  const Message& tombstone = all.messages[0];
  EXPECT_TRUE(tombstone.deleted);
  EXPECT_EQ(tombstone.text, "");
  EXPECT_EQ(tombstone.rev, 3u);
  EXPECT_EQ(all.messages[1].kind, EntryKind::Edit);
  EXPECT_EQ(all.messages[1].text, "hello all");
}

TEST(MessageLog, AResentChangeIsAppliedOnceAndAnsweredWithTheOriginal) {
  MemoryHistory h({0, 0});
  ASSERT_TRUE(put(h, Message{0, 0, "alice", "Alice", "a1", "v1"}));
  Result<Appended> first = put(h, change(EntryKind::Edit, "alice", 1, "v2", "a2"));
  Result<Appended> again = put(h, change(EntryKind::Edit, "alice", 1, "v2", "a2"));
  ASSERT_TRUE(first && again);
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(page(h, {PageQuery::From::After, 0, 100}).messages.size(), 2u);
}

TEST(MessageLog, ReactionsAreIdempotentPerUserAndEmojiAndBounded) {
  MemoryHistory h({0, 0, {2, 3, 100}});  // at most 2 emoji, 3 reactions
  ASSERT_TRUE(put(h, Message{0, 0, "alice", "Alice", "", "hi"}));
  Result<Appended> r1 = put(h, change(EntryKind::React, "bob", 1, "👍"));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->count, 1u);
  Result<Appended> same = put(h, change(EntryKind::React, "bob", 1, "👍"));
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->duplicate);  // a no-op: the target's id
  EXPECT_EQ(same->id, 1u);
  EXPECT_EQ(put(h, change(EntryKind::React, "carol", 1, "👍"))->count, 2u);
  ASSERT_TRUE(put(h, change(EntryKind::React, "bob", 1, "🎉")));
  // Three reactions: the fourth is refused, and so is a third emoji.
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::React, "dan", 1, "👍")).error()),
            Refusal::LimitReached);
  EXPECT_EQ(refusal_of(put(h, change(EntryKind::React, "bob", 1, "❤️")).error()),
            Refusal::LimitReached);
  EXPECT_TRUE(put(h, change(EntryKind::Unreact, "dan", 1, "👍"))->duplicate);  // not there
  Result<Appended> gone = put(h, change(EntryKind::Unreact, "bob", 1, "🎉"));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->count, 0u);
  Message m = page(h, {PageQuery::From::Newest, 0, 10}).messages.at(0);
  ASSERT_EQ(m.reactions.size(), 1u);
  EXPECT_EQ(m.reactions[0].emoji, "👍");
  EXPECT_EQ(m.reactions[0].users, (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(m.rev, gone->id);
}

TEST(MessageLog, AReplyQuotesItsTargetAndLosesTheQuoteWhenTheTargetIsDeleted) {
  MemoryHistory h({0, 0, {20, 1000, 5}});  // quotes of 5 code points
  ASSERT_TRUE(put(h, Message{0, 0, "alice", "Alice", "", "我们的房间很好"}));
  Result<Appended> r = put(h, reply("bob", 1, "yes"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reply.text, "我们的房间");
  EXPECT_EQ(r->reply.from, "Alice");
  EXPECT_EQ(refusal_of(put(h, reply("bob", 99, "?")).error()), Refusal::NotFound);
  ASSERT_TRUE(put(h, change(EntryKind::Edit, "alice", 1, "changed")));
  EXPECT_EQ(page(h, {PageQuery::From::Newest, 0, 10}).messages.at(1).reply.text, "我们的房间");
  ASSERT_TRUE(put(h, change(EntryKind::Delete, "alice", 1)));
  const Quote q = page(h, {PageQuery::From::Newest, 0, 10}).messages.at(1).reply;
  EXPECT_TRUE(q.deleted);
  EXPECT_EQ(q.text, "");
  EXPECT_EQ(q.id, 1u);
  // Replying to a deleted message is allowed; the quote says so.
  Result<Appended> late = put(h, reply("carol", 1, "what was it?"));
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->reply.deleted);
}

TEST(MessageLog, PagesHoldMessagesExceptAfterWhichHoldsEveryEntry) {
  MemoryHistory h({0, 0});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "m" + std::to_string(i)}));
  }
  ASSERT_TRUE(put(h, change(EntryKind::Edit, "u", 2, "m1 edited")));  // 6
  ASSERT_TRUE(put(h, change(EntryKind::React, "v", 3, "👍")));         // 7
  ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "m5"}));             // 8
  Page newest = page(h, {PageQuery::From::Newest, 0, 3});
  EXPECT_EQ(ids(newest.messages), (std::vector<uint64_t>{4, 5, 8}));
  EXPECT_TRUE(newest.truncated);
  EXPECT_EQ(ids(page(h, {PageQuery::From::Before, 8, 10}).messages),
            (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  Page after = page(h, {PageQuery::From::After, 1, 3});
  EXPECT_EQ(ids(after.messages), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(after.messages[0].text, "m1 edited");  // the current state
  EXPECT_EQ(after.messages[0].rev, 6u);
  EXPECT_TRUE(after.truncated);
  EXPECT_EQ(ids(page(h, {PageQuery::From::After, 5, 10}).messages),
            (std::vector<uint64_t>{6, 7, 8}));
  Page around = page(h, {PageQuery::From::Around, 3, 4});
  EXPECT_EQ(ids(around.messages), (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_TRUE(around.truncated);
  EXPECT_TRUE(around.newer);
  Page end = page(h, {PageQuery::From::Around, 8, 4});
  EXPECT_EQ(ids(end.messages), (std::vector<uint64_t>{5, 8}));  // 2 older, 2 newer (none)
  EXPECT_FALSE(end.newer);
}

SearchPage find(History& h, std::string text, uint64_t before = 0, std::size_t limit = 20) {
  SearchPage out;
  h.search("r", SearchQuery{std::move(text), before, limit},
           [&](Result<SearchPage> p) { out = std::move(*p); });
  return out;
}

TEST(MemoryHistory, SearchFindsCurrentTextIgnoringCaseNewestFirstNeverDeleted) {
  MemoryHistory h({0, 0});
  ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "Release notes are out"}));  // 1
  ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "ÉCOLE 我们的房间很好"}));   // 2
  ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "release party"}));          // 3
  ASSERT_TRUE(put(h, Message{0, 0, "u", "n", "", "nothing"}));                // 4
  EXPECT_EQ(ids(find(h, "RELEASE").messages), (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(ids(find(h, "école").messages), (std::vector<uint64_t>{2}));
  EXPECT_EQ(ids(find(h, "房间").messages), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(put(h, change(EntryKind::Edit, "u", 4, "a release after all")));
  ASSERT_TRUE(put(h, change(EntryKind::Delete, "u", 3)));
  EXPECT_EQ(ids(find(h, "release").messages), (std::vector<uint64_t>{4, 1}));
  SearchPage first = find(h, "release", 0, 1);
  EXPECT_EQ(ids(first.messages), (std::vector<uint64_t>{4}));
  ASSERT_TRUE(first.truncated);
  SearchPage second = find(h, "release", first.next, 1);
  EXPECT_EQ(ids(second.messages), (std::vector<uint64_t>{1}));
  EXPECT_FALSE(second.truncated);  // the scan reached the room's first message
}

// Whatever the cache answers, the History would have answered the same, in
// the same state: random logs of messages, replies and changes (valid or
// refused), random warming, every kind of page.
TEST(RoomCache, AnswersExactlyLikeTheHistory) {
  std::mt19937 rng(7);
  const std::vector<std::string> users{"u1", "u2", "u3"};
  const std::vector<std::string> emoji{"👍", "🎉", "❤️"};
  auto random_entry = [&](uint64_t last) {
    uint64_t target = last == 0 ? 1 : 1 + rng() % last;
    const std::string& user = users[rng() % users.size()];
    switch (rng() % 6) {
      case 0:
        return change(EntryKind::Edit, user, target, "edit " + std::to_string(rng() % 100));
      case 1:
        return change(EntryKind::Delete, user, target);
      case 2:
        return change(EntryKind::React, user, target, emoji[rng() % emoji.size()]);
      case 3:
        return change(EntryKind::Unreact, user, target, emoji[rng() % emoji.size()]);
      case 4:
        return reply(user, target, "re " + std::to_string(rng() % 100));
      default:
        return Message{0, 0, user, "n", "", "msg " + std::to_string(rng() % 100)};
    }
  };
  for (int round = 0; round < 200; ++round) {
    std::size_t retain = rng() % 3 == 0 ? 0 : 5 + rng() % 30;
    MemoryHistory history({retain, 0, {2, 4, 10}});
    CacheBudget budget(0);
    uint64_t start = 0;
    for (std::size_t i = 0, n = rng() % 40; i < n; ++i) {
      if (Result<Appended> r = put(history, random_entry(start)); r && !r->duplicate) start = r->id;
    }
    RoomCache cache(start, {1 + rng() % 20, 0, retain}, budget);
    for (std::size_t i = 0, n = rng() % 60; i < n; ++i) {
      Message entry = random_entry(cache.last_id());
      Result<Appended> r = put(history, entry);
      if (!r || r->duplicate) continue;
      entry.id = r->id;
      entry.ts_ms = r->ts_ms;
      entry.reply = entry.reply.id != 0 ? r->reply : Quote{};
      entry.count = r->count;
      cache.append(entry);
      if (rng() % 8 == 0)
        cache.warm(page(history, {PageQuery::From::Newest, 0, 1 + rng() % 10}).messages);
    }
    for (int q = 0; q < 20; ++q) {
      PageQuery query{static_cast<PageQuery::From>(rng() % 4), rng() % (cache.last_id() + 3),
                      1 + rng() % 15};
      auto cached = cache.read(query);
      if (!cached) continue;
      Page truth = page(history, query);
      auto state = [](const std::vector<Message>& messages) {
        std::vector<std::string> out;
        for (const Message& m : messages) out.push_back(encode_message("r", m, "u1"));
        return out;
      };
      ASSERT_EQ(state(cached->messages), state(truth.messages))
          << "round " << round << " query " << static_cast<int>(query.from) << " anchor "
          << query.anchor << " limit " << query.limit;
      ASSERT_EQ(cached->truncated, truth.truncated) << "round " << round;
      ASSERT_EQ(cached->newer, truth.newer) << "round " << round;
    }
  }
}

TEST(RoomCache, RefreshBringsAStalePageUpToDate) {
  MemoryHistory history({0, 0});
  CacheBudget budget(0);
  ASSERT_TRUE(put(history, Message{0, 0, "u", "n", "", "old"}));
  ASSERT_TRUE(put(history, reply("v", 1, "re")));
  Page stale = page(history, {PageQuery::From::Newest, 0, 10});
  RoomCache cache(2, {100, 0, 0}, budget);
  Message edit = change(EntryKind::Edit, "u", 1, "new");
  Result<Appended> r = put(history, edit);
  edit.id = r->id;
  cache.append(edit);
  Message del = change(EntryKind::Delete, "u", 1);
  r = put(history, del);
  del.id = r->id;
  cache.append(del);
  cache.refresh(stale.messages);
  Page fresh = page(history, {PageQuery::From::Newest, 0, 10});
  ASSERT_EQ(stale.messages.size(), 2u);
  EXPECT_EQ(encode_message("r", stale.messages[0]), encode_message("r", fresh.messages[0]));
  EXPECT_EQ(encode_message("r", stale.messages[1]), encode_message("r", fresh.messages[1]));
  EXPECT_TRUE(stale.messages[1].reply.deleted);
}

}  // namespace
}  // namespace parley::chat
