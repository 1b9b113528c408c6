// ChatHub over in-memory "loops": each loop is a task queue run by the test,
// so cross-loop ordering is checked deterministically, without threads. The
// History is either MemoryHistory (answers at once) or ManualHistory, which
// holds every append and read until the test releases it: the store-backed
// paths (acks after commit, ordering behind pending writes, store failures)
// run in-process, step by step.
#include "chat/chat_hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chat/member.h"
#include "chat/memory_history.h"
#include "chat_test_support.h"

namespace parley::chat {
namespace {

using namespace testing;

TEST(ChatHub, PlainTextRoomAcrossLoopsKeepsTheSeedsBehaviour) {
  FakeLoops loops(2);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  FakeMember a(Protocol::PlainText, {"lobby"}), b(Protocol::PlainText, {"lobby"});
  MemberRef ra = hub.attach(0, &a);
  MemberRef rb = hub.attach(1, &b);
  hub.join(ra, {"lobby", "guest-1", "guest-1", Protocol::PlainText, {}});
  loops.run();
  hub.join(rb, {"lobby", "guest-2", "guest-2", Protocol::PlainText, {}});
  loops.run();
  EXPECT_EQ(a.received, (std::vector<std::string>{"系统通知: 新用户加入,当前在线2人"}));
  EXPECT_TRUE(b.received.empty());  // the joiner hears nothing, as in the seed

  hub.send(rb, {"lobby", "", "hello"});
  loops.run();
  EXPECT_EQ(a.received.back(), "hello");
  EXPECT_TRUE(b.received.empty());  // never its own message

  hub.leave(rb, "lobby");
  loops.run();
  EXPECT_EQ(a.received.back(), "系统通知: 用户离开,当前在线1人");
}

TEST(ChatHub, JsonMemberGetsJoinedWithHistoryThenLiveMessagesOnce) {
  FakeLoops loops(2);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  FakeMember writer(Protocol::Json, {"r"}), reader(Protocol::Json, {"r"});
  MemberRef rw = hub.attach(0, &writer);
  hub.join(rw, json_join("r", "u1", "alice"));
  loops.run();
  hub.send(rw, {"r", "c1", "first"});
  loops.run();
  EXPECT_EQ(writer.types(), "joined,ack");

  MemberRef rr = hub.attach(1, &reader);
  hub.join(rr, json_join("r", "u2", "bob"));
  hub.send(rw, {"r", "c2", "second"});
  loops.run();
  ASSERT_EQ(reader.types(), "joined,message");
  EXPECT_NE(reader.received[0].find("first"), std::string::npos);
  EXPECT_EQ(reader.received[0].find("second"), std::string::npos);
  EXPECT_NE(reader.received[1].find("second"), std::string::npos);
  EXPECT_NE(reader.received[0].find(R"("online":2,"users":2)"), std::string::npos);
}

TEST(ChatHub, AJoinAnsweredAfterLeavingDoesNotReAddTheMember) {
  FakeLoops loops(1);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  FakeMember gone(Protocol::PlainText, {}), other(Protocol::PlainText, {"r"});
  MemberRef rg = hub.attach(0, &gone);
  MemberRef ro = hub.attach(0, &other);
  hub.join(ro, {"r", "g1", "g1", Protocol::PlainText, {}});
  loops.run();
  hub.join(rg, {"r", "g2", "g2", Protocol::PlainText, {}});  // `gone` no longer wants "r"
  loops.run();
  hub.send(ro, {"r", "", "hi"});
  loops.run();
  EXPECT_TRUE(gone.received.empty());
}

TEST(ChatHub, DetachedMembersAreNeverReached) {
  FakeLoops loops(1);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  FakeMember a(Protocol::PlainText, {"r"});
  MemberRef ra = hub.attach(0, &a);
  hub.join(ra, {"r", "g1", "g1", Protocol::PlainText, {}});
  hub.detach(ra);
  loops.run();  // the activation finds a stale handle
  FakeMember b(Protocol::PlainText, {"r"});
  MemberRef rb = hub.attach(0, &b);  // reuses the slot with a new generation
  EXPECT_EQ(rb.slot, ra.slot);
  EXPECT_NE(rb.generation, ra.generation);
  EXPECT_TRUE(a.received.empty());
}

ChatOptions without_cache() {
  ChatOptions options;
  options.room.cache.max_messages = 0;  // every read goes to the History
  return options;
}

// Two JSON members of room "r" on two loops, over a ManualHistory and no
// cache, so that every read is a store round trip the test controls.
struct StoreBacked : ::testing::Test {
  FakeLoops loops{2};
  ManualHistory history{5};
  ChatHub hub{loops.ports(), history, no_bus, without_cache()};
  FakeMember alice{Protocol::Json, {"r"}}, bob{Protocol::Json, {"r"}};
  MemberRef ra = hub.attach(0, &alice);
  MemberRef rb = hub.attach(1, &bob);

  void SetUp() override {
    hub.join(ra, json_join("r", "u1", "alice"));
    loops.run();
    history.answer_next_read();  // the join's history
    loops.run();
    hub.join(rb, json_join("r", "u2", "bob"));
    loops.run();
    history.answer_next_read();
    loops.run();
    EXPECT_TRUE(history.reads.empty());
    alice.received.clear();
    bob.received.clear();
  }
};

TEST_F(StoreBacked, AckAndDeliveryOnlyAfterTheStoreCommits) {
  hub.send(ra, {"r", "c1", "hi"});
  loops.run();
  EXPECT_EQ(alice.types(), "");
  EXPECT_EQ(bob.types(), "");
  history.commit_next();
  loops.run();
  EXPECT_EQ(alice.types(), "ack");
  EXPECT_EQ(bob.types(), "message");
}

TEST_F(StoreBacked, AFailedWriteIsAnsweredInternalAndDeliversNothing) {
  hub.send(ra, {"r", "c1", "hi"});
  loops.run();
  history.fail_next();
  loops.run();
  ASSERT_EQ(alice.types(), "error");
  EXPECT_NE(alice.received[0].find(R"("code":"internal")"), std::string::npos);
  EXPECT_NE(alice.received[0].find(R"("id":"c1")"), std::string::npos);
  EXPECT_EQ(bob.types(), "");
}

TEST_F(StoreBacked, EventsAfterAMessageWaitForItsCommit) {
  hub.send(ra, {"r", "c1", "last words"});
  hub.leave(ra, "r");
  alice.leave_room("r");
  loops.run();
  EXPECT_EQ(bob.types(), "");  // not even the presence: it follows the message
  EXPECT_EQ(alice.types(), "");
  history.commit_next();
  loops.run();
  EXPECT_EQ(bob.types(), "message,presence");
  EXPECT_EQ(alice.types(), "ack,left");
}

TEST_F(StoreBacked, OneMembersHistoryReadsDoNotDelayAnothersSends) {
  hub.history(ra, {"r", PageQuery{PageQuery::From::Before, 1000, 50}});
  loops.run();
  ASSERT_EQ(history.reads.size(), 1u);  // alice's read is in flight
  hub.send(rb, {"r", "b1", "hello"});
  loops.run();
  history.commit_next();
  loops.run();
  EXPECT_EQ(bob.types(), "ack");        // bob is not held up by alice's read
  EXPECT_EQ(alice.types(), "message");  // nor is the room's message
  history.answer_next_read();
  loops.run();
  EXPECT_EQ(alice.types(), "message,history");
  EXPECT_EQ(alice.histories_answered, 1);
}

TEST_F(StoreBacked, AHistoryReadStartsAfterTheMembersOwnAcks) {
  hub.send(ra, {"r", "c1", "hi"});
  hub.history(ra, {"r", PageQuery{PageQuery::From::Before, 1000, 50}});
  loops.run();
  EXPECT_TRUE(history.reads.empty());  // waits for the ack before it
  history.commit_next();
  loops.run();
  ASSERT_EQ(history.reads.size(), 1u);
  history.answer_next_read();
  loops.run();
  EXPECT_EQ(alice.types(), "ack,history");
  EXPECT_NE(alice.received[1].find("hi"), std::string::npos);  // the page holds what was acked
}

TEST_F(StoreBacked, AHistoryReadErrorIsHistoryUnavailable) {
  hub.history(ra, {"r", PageQuery{PageQuery::From::After, 0, 50}});
  loops.run();
  history.fail_next_read();
  loops.run();
  ASSERT_EQ(alice.types(), "error");
  EXPECT_NE(alice.received[0].find(R"("code":"history_unavailable")"), std::string::npos);
  EXPECT_EQ(alice.histories_answered, 1);
}

TEST_F(StoreBacked, ALeavingClientStillGetsItsAnswersInOrder) {
  hub.send(ra, {"r", "c1", "hi"});
  hub.history(ra, {"r", PageQuery{PageQuery::From::Before, 1000, 50}});
  hub.leave(ra, "r");
  alice.leave_room("r");
  loops.run();
  history.commit_next();
  loops.run();
  history.answer_next_read();
  loops.run();
  EXPECT_EQ(alice.types(), "ack,history,left");
}

TEST_F(StoreBacked, ReadsOfADisconnectedClientAreCancelled) {
  hub.send(ra, {"r", "c1", "hi"});
  hub.history(ra, {"r", PageQuery{PageQuery::From::Before, 1000, 50}});
  hub.leave(ra, "r", /*disconnected=*/true);
  alice.leave_room("r");
  loops.run();
  history.commit_next();
  loops.run();
  EXPECT_TRUE(history.reads.empty());  // never started
  EXPECT_EQ(alice.types(), "ack,left");
  EXPECT_EQ(alice.histories_answered, 1);
}

TEST(ChatHubJoin, AJoinWhoseHistoryCannotBeReadStillJoinsTruncated) {
  FakeLoops loops(1);
  ManualHistory history(10);
  ChatHub hub(loops.ports(), history, no_bus, {});
  FakeMember a(Protocol::Json, {"r"});
  MemberRef ra = hub.attach(0, &a);
  hub.join(ra, json_join("r", "u1", "alice", 5));
  loops.run();
  history.fail_next_read();
  loops.run();
  ASSERT_EQ(a.types(), "joined");
  EXPECT_NE(a.received[0].find(R"("truncated":true)"), std::string::npos);
}

// "Requests are processed in the order received": a send right behind a
// join of a cold room is answered by its ack after `joined`, and its message
// is not in that history, whichever of the store's writer and reader gets
// there first (they run side by side).
struct JoinThenSend : ::testing::Test {
  FakeLoops loops{1};
  ManualHistory history{5};
  ChatHub hub{loops.ports(), history, no_bus, without_cache()};
  FakeMember alice{Protocol::Json, {"r"}};
  MemberRef ra = hub.attach(0, &alice);

  void SetUp() override {
    hub.join(ra, json_join("r", "u1", "alice", 2));
    hub.send(ra, {"r", "c1", "fresh"});
    loops.run();
    ASSERT_EQ(history.reads.size(), 1u);
    ASSERT_EQ(history.appends.size(), 1u);
  }
  void expect_joined_without_own_message_then_ack() {
    ASSERT_EQ(alice.types(), "joined,ack");
    EXPECT_NE(alice.received[0].find(R"("msg_id":5)"), std::string::npos) << alice.received[0];
    EXPECT_EQ(alice.received[0].find(R"("msg_id":6)"), std::string::npos) << alice.received[0];
    EXPECT_NE(alice.received[1].find(R"("msg_id":6)"), std::string::npos) << alice.received[1];
  }
};

TEST_F(JoinThenSend, StoredBeforeThePageIsReadAndAckedFirst) {
  history.commit_next();       // the writer stores it
  history.answer_next_read();  // then the reader reads a page that holds it
  loops.run();                 // the ack reaches the room before the page
  expect_joined_without_own_message_then_ack();
}

TEST_F(JoinThenSend, StoredBeforeThePageIsReadButAckedAfterIt) {
  // The writer stores it, the reader reads it, and the page reaches the
  // room before the writer's answer: the join waits for that answer.
  ManualHistory::HeldAppend append = std::move(history.appends.front());
  history.appends.pop_front();
  std::optional<Result<Appended>> stored;
  history.backing.append(append.room, append.message, [&](Result<Appended> r) { stored = r; });
  ASSERT_TRUE(stored && *stored);
  history.answer_next_read();
  loops.run();
  EXPECT_EQ(alice.types(), "");
  append.done(*stored);
  loops.run();
  expect_joined_without_own_message_then_ack();
}

TEST_F(JoinThenSend, EverySendBehindTheJoinIsLeftOut) {
  hub.send(ra, {"r", "c2", "and another"});
  loops.run();
  history.commit_next();
  history.commit_next();
  history.answer_next_read();
  loops.run();
  ASSERT_EQ(alice.types(), "joined,ack,ack");
  EXPECT_EQ(alice.received[0].find(R"("msg_id":6)"), std::string::npos);
  EXPECT_EQ(alice.received[0].find(R"("msg_id":7)"), std::string::npos);
}

TEST(ChatHubJoin, JoinedAndHistoryAnswersStayWithinTheByteBudget) {
  FakeLoops loops(1);
  MemoryHistory history({1000, 0});
  ChatOptions options;
  options.room.answer_bytes = 64 << 10;
  options.room.cache.max_messages = 0;  // everything from the History
  ChatHub hub(loops.ports(), history, no_bus, options);
  FakeMember writer(Protocol::PlainText, {"r"}), reader(Protocol::Json, {"r"});
  MemberRef rw = hub.attach(0, &writer);
  hub.join(rw, {"r", "g", "g", Protocol::PlainText, {}});
  // 3000 bytes of control characters: 18,000 bytes once JSON-escaped.
  for (int i = 0; i < 20; ++i) hub.send(rw, {"r", "", std::string(3000, '\x01')});
  loops.run();
  MemberRef rr = hub.attach(0, &reader);
  hub.join(rr, json_join("r", "u", "reader", 0));
  loops.run();
  ASSERT_EQ(reader.types(), "joined");
  EXPECT_LE(reader.received[0].size(), options.room.answer_bytes);
  EXPECT_NE(reader.received[0].find(R"("truncated":true)"), std::string::npos);
  // Paging on from the end of the page moves on and stays in the budget.
  hub.history(rr, {"r", PageQuery{PageQuery::From::After, 2, 200}});
  loops.run();
  ASSERT_EQ(reader.types(), "joined,history");
  EXPECT_LE(reader.received[1].size(), options.room.answer_bytes);
  EXPECT_NE(reader.received[0].find(R"("msg_id":2)"), std::string::npos);
  EXPECT_EQ(reader.received[0].find(R"("msg_id":3)"), std::string::npos);
  EXPECT_NE(reader.received[1].find(R"("msg_id":3)"), std::string::npos);
}

TEST(ChatHubNames, AThousandJoinsUnderOneNameGetDistinctNames) {
  FakeLoops loops(1);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  std::vector<std::unique_ptr<FakeMember>> members;
  std::vector<MemberRef> refs;
  for (int i = 0; i < 1000; ++i) {
    members.push_back(std::make_unique<FakeMember>(Protocol::Json, std::vector<std::string>{"r"}));
    refs.push_back(hub.attach(0, members.back().get()));
    hub.join(refs.back(), json_join("r", "u" + std::to_string(i), "alice"));
  }
  loops.run();
  std::set<std::string> names;
  for (auto& m : members) {
    const std::string& joined = m->received.front();
    auto at = joined.find(R"("you":")") + 7;
    names.insert(joined.substr(at, joined.find('"', at) - at));
  }
  EXPECT_EQ(names.size(), 1000u);
  EXPECT_TRUE(names.count("alice"));
  EXPECT_TRUE(names.count("alice-1000"));
  // `joined` lists at most a page of members, with the counts.
  EXPECT_NE(members.back()->received.front().find(R"("online":1000,"users":1000)"),
            std::string::npos);
}

TEST(ChatHubMembers, TheMemberListPagesByName) {
  FakeLoops loops(1);
  MemoryHistory history({});
  ChatHub hub(loops.ports(), history, no_bus, {});
  std::vector<std::unique_ptr<FakeMember>> members;
  std::vector<MemberRef> refs;
  for (const char* name : {"dan", "ann", "cy", "bo", "eve"}) {
    members.push_back(std::make_unique<FakeMember>(Protocol::Json, std::vector<std::string>{"r"}));
    refs.push_back(hub.attach(0, members.back().get()));
    hub.join(refs.back(), json_join("r", std::string("u-") + name, name));
  }
  loops.run();
  FakeMember& dan = *members[0];
  dan.received.clear();
  hub.members(refs[0], "r", "", 2);
  loops.run();
  ASSERT_EQ(dan.types(), "members");
  EXPECT_NE(
      dan.received[0].find(
          R"("members":[{"user":"u-ann","name":"ann"},{"user":"u-bo","name":"bo"}],"next":"bo")"),
      std::string::npos)
      << dan.received[0];
  hub.members(refs[0], "r", "bo", 10);
  loops.run();
  EXPECT_NE(dan.received[1].find(R"("name":"cy")"), std::string::npos);
  EXPECT_EQ(dan.received[1].find(R"("next")"), std::string::npos);  // the end
  EXPECT_NE(dan.received[1].find(R"("online":5,"users":5)"), std::string::npos);
}

TEST(ChatHubPresence, ALargeRoomGetsOnePresenceEventPerIntervalWithTheCount) {
  FakeLoops loops(2);
  MemoryHistory history({});
  ChatOptions options;
  options.room.presence_batch_above = 3;
  ChatHub hub(loops.ports(), history, no_bus, options);
  std::vector<std::unique_ptr<FakeMember>> members;
  std::vector<MemberRef> refs;
  auto add = [&](Protocol p, const std::string& user) {
    members.push_back(std::make_unique<FakeMember>(p, std::vector<std::string>{"r"}));
    refs.push_back(hub.attach(static_cast<uint32_t>(members.size() % 2), members.back().get()));
    hub.join(refs.back(), JoinRequest{"r", user, user, p, {}});
    loops.run();
  };
  add(Protocol::PlainText, "g1");
  add(Protocol::Json, "j1");
  EXPECT_EQ(members[0]->received.size(), 1u);  // a small room: one notice per join
  for (int i = 0; i < 30; ++i) add(Protocol::Json, "x" + std::to_string(i));
  hub.leave(refs[5], "r");
  loops.run();
  std::size_t before = members[0]->received.size();
  EXPECT_LE(before, 3u);  // the joins past the threshold wait for the interval
  loops.advance(std::chrono::milliseconds(100));
  // One seed notice with the count after all of them...
  ASSERT_GE(members[0]->received.size(), before + 1);
  EXPECT_EQ(members[0]->received[before], "系统通知: 新用户加入,当前在线31人");
  // ...and one JSON batch naming at most 20 joiners, counting the rest.
  auto batches = members[1]->with(R"("type":"presence_batch")");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_NE(batches[0].find(R"("online":31,"users":31)"), std::string::npos) << batches[0];
  EXPECT_NE(batches[0].find(R"("left":[{"user":"x3")"), std::string::npos) << batches[0];
  EXPECT_NE(batches[0].find(R"("more_joined":)"), std::string::npos);
}

TEST(ChatHubRooms, AJoinPastTheRoomLimitIsRefusedAndOpenRoomsStayJoinable) {
  FakeLoops loops(2);
  MemoryHistory history({});
  ChatOptions options;
  options.max_rooms = 2;
  ChatHub hub(loops.ports(), history, no_bus, options);
  FakeMember a(Protocol::Json, {"r1", "r2", "r3"}), b(Protocol::Json, {"r1"});
  MemberRef ra = hub.attach(0, &a);
  MemberRef rb = hub.attach(1, &b);
  hub.join(ra, json_join("r1", "u1", "a"));
  hub.join(ra, json_join("r2", "u1", "a"));
  loops.run();
  hub.join(ra, json_join("r3", "u1", "a"));
  loops.run();
  EXPECT_EQ(a.refused, std::vector<std::string>{"r3"});
  EXPECT_EQ(hub.live_rooms(), 2u);
  hub.join(rb, json_join("r1", "u2", "b"));  // an open room: fine
  loops.run();
  EXPECT_EQ(b.types(), "joined");
  hub.leave(ra, "r2");  // r2 empties and closes: room for another
  loops.run();
  EXPECT_EQ(hub.live_rooms(), 1u);
  hub.join(ra, json_join("r3", "u1", "a"));
  loops.run();
  EXPECT_EQ(a.refused.size(), 1u);
  EXPECT_EQ(hub.live_rooms(), 2u);
}

TEST(ChatHubBus, ARoomIsSubscribedWhileOpenAndPublishesWhatItStores) {
  FakeLoops loops(2);
  MemoryHistory history({});
  RecordingBus bus;
  ChatHub hub(loops.ports(), history, bus, {});
  FakeMember a(Protocol::Json, {"r"});
  MemberRef ra = hub.attach(1, &a);
  hub.join(ra, json_join("r", "u1", "a"));
  hub.send(ra, {"r", "c1", "hello"});
  hub.leave(ra, "r");
  loops.run();
  EXPECT_EQ(bus.log, (std::vector<std::string>{"+r", "r#1:hello", "-r"}));
}

}  // namespace
}  // namespace parley::chat
