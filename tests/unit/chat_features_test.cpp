// The room's log through the chat core (docs/PROTOCOL.md, "The room's log",
// "Search", `rooms`): every RoomHome / ChatHub step for edits, deletes,
// reactions, replies, search, history around and the directory, over
// FakeLoops and a ManualHistory (held store round trips) or a MemoryHistory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/chat_hub.h"
#include "chat/memory_history.h"
#include "chat_test_support.h"

namespace parley::chat {
namespace {

using namespace testing;

bool has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

ChangeRequest on(uint64_t target, std::string client_id, std::string text = {}) {
  return ChangeRequest{"r", std::move(client_id), target, std::move(text)};
}

// alice (JSON, loop 0), bob (JSON, loop 1) and a plain-text guest (loop 1)
// in room "r", which holds 5 messages by "u0" and one by alice (id 6).
struct Log : ::testing::Test {
  FakeLoops loops{2};
  ManualHistory history{5};
  ChatHub hub{loops.ports(), history, no_bus, {}};
  FakeMember alice{Protocol::Json, {"r"}}, bob{Protocol::Json, {"r"}};
  FakeMember guest{Protocol::PlainText, {"r"}};
  MemberRef ra = hub.attach(0, &alice);
  MemberRef rb = hub.attach(1, &bob);
  MemberRef rg = hub.attach(1, &guest);

  void SetUp() override {
    hub.join(ra, json_join("r", "u-alice", "alice"));
    settle();
    hub.join(rb, json_join("r", "u-bob", "bob"));
    settle();
    hub.join(rg, JoinRequest{"r", "g1", "guest-1", Protocol::PlainText, {}});
    settle();
    hub.send(ra, {"r", "a1", "first words"});
    settle();
    clear();
  }
  // Runs the loops and releases every held store round trip, until quiet.
  void settle() {
    loops.run();
    while (!history.appends.empty() || !history.reads.empty() || !history.searches.empty()) {
      while (!history.appends.empty()) history.commit_next();
      while (!history.reads.empty()) history.answer_next_read();
      while (!history.searches.empty()) history.answer_next_search();
      loops.run();
    }
  }
  void clear() {
    alice.received.clear();
    bob.received.clear();
    guest.received.clear();
  }
};

TEST_F(Log, AnEditIsAckedAfterCommitAndReachesEveryoneTheAuthorIncluded) {
  hub.edit(ra, on(6, "a2", "better words"));
  loops.run();
  EXPECT_EQ(alice.types(), "");  // nothing before the store commits
  EXPECT_EQ(bob.types(), "");
  history.commit_next();
  loops.run();
  ASSERT_EQ(bob.types(), "message_edited");
  EXPECT_TRUE(has(bob.received[0], R"("msg_id":7,)"
                                   R"("ts":)"))
      << bob.received[0];
  EXPECT_TRUE(has(bob.received[0], R"("id":"a2","target":6,"text":"better words"})"))
      << bob.received[0];
  // The author's connection gets the event and its ack.
  EXPECT_EQ(alice.with(R"("type":"message_edited")").size(), 1u);
  ASSERT_EQ(alice.with(R"("type":"ack")").size(), 1u);
  EXPECT_TRUE(has(alice.with(R"("type":"ack")")[0], R"("id":"a2","msg_id":7)"));
  // The seed's page sees the edit as a new line.
  EXPECT_EQ(guest.received, (std::vector<std::string>{"alice (edited): better words"}));
}

TEST_F(Log, RefusedChangesAreAnsweredWithTheirCodesAndChangeNothing) {
  hub.edit(rb, on(6, "b1", "not mine"));
  hub.delete_message(rb, on(6, "b2"));
  hub.react(rb, on(99, "b3", "👍"), true);
  hub.send(rb, {"r", "b4", "re", 99});
  settle();
  ASSERT_EQ(bob.types(), "error,error,error,error");
  EXPECT_TRUE(has(bob.received[0], R"("code":"not_author")"));
  EXPECT_TRUE(has(bob.received[0], R"("ref":"edit","id":"b1","room":"r")")) << bob.received[0];
  EXPECT_TRUE(has(bob.received[1], R"("code":"not_author")"));
  EXPECT_TRUE(has(bob.received[1], R"("ref":"delete")"));
  EXPECT_TRUE(has(bob.received[2], R"("code":"not_found")"));
  EXPECT_TRUE(has(bob.received[2], R"("ref":"react")"));
  EXPECT_TRUE(has(bob.received[3], R"("code":"not_found")"));
  EXPECT_TRUE(has(bob.received[3], R"("ref":"send","id":"b4")"));
  EXPECT_EQ(alice.types(), "");
  EXPECT_TRUE(guest.received.empty());
  hub.delete_message(ra, on(6, "a2"));
  hub.edit(ra, on(6, "a3", "too late"));
  settle();
  EXPECT_EQ(alice.types(), "message_deleted,ack,error");
  EXPECT_TRUE(has(alice.received[2], R"("code":"deleted")"));
  EXPECT_TRUE(guest.received.empty());  // deletes are not shown to the seed's page
}

TEST_F(Log, AReactionThatChangesNothingIsAckedAsADuplicateWithoutAnEvent) {
  hub.react(rb, on(6, "b1", "👍"), true);
  settle();
  EXPECT_TRUE(has(bob.with(R"("type":"reaction")").at(0),
                  R"("target":6,"emoji":"👍","added":true,"count":1})"));
  clear();
  hub.react(rb, on(6, "b2", "👍"), true);   // already there
  hub.react(rb, on(6, "b3", "🎉"), false);  // not there
  settle();
  EXPECT_EQ(bob.types(), "ack,ack");
  EXPECT_TRUE(has(bob.received[0], R"("msg_id":6,)"));  // the target's id
  EXPECT_TRUE(has(bob.received[0], R"("duplicate":true)"));
  EXPECT_EQ(alice.types(), "");
  hub.react(ra, on(6, "a2", "👍"), true);
  hub.react(rb, on(6, "b4", "👍"), false);
  settle();
  auto reactions = alice.with(R"("type":"reaction")");
  ASSERT_EQ(reactions.size(), 2u);
  EXPECT_TRUE(has(reactions[0], R"("added":true,"count":2)"));
  EXPECT_TRUE(has(reactions[1], R"("user":"u-bob")"));
  EXPECT_TRUE(has(reactions[1], R"("added":false,"count":1)"));
}

TEST_F(Log, AReplyCarriesItsQuoteLiveAndPlainTextSeesAnOrdinaryLine) {
  hub.send(rb, {"r", "b1", "agreed", 6});
  settle();
  ASSERT_EQ(alice.types(), "message");
  EXPECT_TRUE(
      has(alice.received[0],
          R"("reply_to":{"msg_id":6,"user":"u-alice","from":"alice","text":"first words"})"))
      << alice.received[0];
  EXPECT_EQ(guest.received, (std::vector<std::string>{"bob: agreed"}));
}

TEST_F(Log, JoiningWithSinceGetsTheChangesOfOldMessagesAndPagesShowTheCurrentState) {
  hub.react(rb, on(3, "b1", "👍"), true);  // 7: an old message
  hub.edit(ra, on(6, "a2", "edited"));    // 8
  settle();
  FakeMember carol{Protocol::Json, {"r"}};
  MemberRef rc = hub.attach(0, &carol);
  hub.join(rc, json_join("r", "u-bob", "bob", 6));  // bob's second tab, back from offline
  settle();
  ASSERT_EQ(carol.types(), "joined");
  const std::string& joined = carol.received[0];
  EXPECT_TRUE(has(joined, R"({"type":"reaction","room":"r","msg_id":7)")) << joined;
  EXPECT_TRUE(has(joined, R"({"type":"message_edited","room":"r","msg_id":8)")) << joined;
  // Scroll-back pages hold messages only, in their current state, with `me`
  // for the member that asked.
  hub.history(rc, {"r", PageQuery{PageQuery::From::Before, 7, 10}});
  settle();
  ASSERT_EQ(carol.types(), "joined,history");
  const std::string& page = carol.received[1];
  EXPECT_FALSE(has(page, "message_edited"));
  EXPECT_TRUE(has(page, R"("text":"edited","id":"a1","edited":)")) << page;
  EXPECT_TRUE(has(page, R"("reactions":[{"emoji":"👍","count":1,"me":true}],"rev":7)")) << page;
}

TEST_F(Log, HistoryAroundShowsAMessageInContextInItsCurrentState) {
  hub.delete_message(ra, on(6, "a2"));
  hub.send(rb, {"r", "b1", "after"});
  settle();
  bob.received.clear();
  hub.history(rb, {"r", PageQuery{PageQuery::From::Around, 4, 4}});
  settle();
  ASSERT_EQ(bob.types(), "history");
  const std::string& page = bob.received[0];
  EXPECT_TRUE(has(page, R"("msg_id":3,)") && has(page, R"("msg_id":6,)")) << page;
  EXPECT_FALSE(has(page, R"("msg_id":7,)")) << page;  // the delete is not a message
  EXPECT_TRUE(has(page, R"("text":"","id":"a1","deleted":true,"rev":7})")) << page;
  EXPECT_TRUE(has(page, R"("truncated":true,"newer":true})")) << page;
}

TEST(LogRefresh, AStorePageIsNeverOlderThanTheEventsThatPrecedeIt) {
  FakeLoops loops(1);
  ManualHistory history(0);
  history.read_at_request = true;
  ChatOptions options;
  options.room.cache.max_messages = 4;
  ChatHub hub(loops.ports(), history, no_bus, options);
  FakeMember a(Protocol::Json, {"r"}), b(Protocol::Json, {"r"});
  MemberRef ra = hub.attach(0, &a), rb = hub.attach(0, &b);
  hub.join(ra, json_join("r", "ua", "a"));
  hub.join(rb, json_join("r", "ub", "b"));
  for (int i = 0; i < 8; ++i) hub.send(ra, {"r", "a" + std::to_string(i), "m" + std::to_string(i)});
  for (int i = 0; i < 3; ++i) {
    loops.run();
    while (!history.appends.empty()) history.commit_next();
    while (!history.reads.empty()) history.answer_next_read();
  }
  loops.run();
  b.received.clear();
  // Message 1 is older than the cache (ids 5-8): b's page is a store read,
  // taken now; a's edit of message 1 is stored before the page is answered.
  hub.history(rb, {"r", PageQuery{PageQuery::From::Before, 3, 10}});
  loops.run();
  ASSERT_EQ(history.reads.size(), 1u);
  hub.edit(ra, on(1, "e1", "m0, edited"));
  loops.run();
  history.commit_next();
  loops.run();
  history.answer_next_read();
  loops.run();
  ASSERT_EQ(b.types(), "message_edited,history");
  EXPECT_TRUE(has(b.received[1], R"("text":"m0, edited")")) << b.received[1];
  EXPECT_TRUE(has(b.received[1], R"("rev":9)")) << b.received[1];
}

TEST_F(Log, SearchIsAReadInTheMembersAnswerOrderAndIsCountedDone) {
  hub.send(rb, {"r", "b1", "the Release notes"});
  hub.search(rb, SearchRequestAt{"r", SearchQuery{"release", 0, 10}});
  loops.run();
  EXPECT_TRUE(history.searches.empty());  // waits for the ack before it
  history.commit_next();
  loops.run();
  ASSERT_EQ(history.searches.size(), 1u);
  history.answer_next_search();
  loops.run();
  EXPECT_EQ(bob.types(), "ack,search_results");
  EXPECT_TRUE(has(bob.received[1], R"("query":"release","messages":[{"type":"message")"));
  EXPECT_TRUE(has(bob.received[1], R"("text":"the Release notes")"));
  EXPECT_TRUE(has(bob.received[1], R"("truncated":false})")) << bob.received[1];
  EXPECT_EQ(bob.searches_answered, 1);
}

TEST_F(Log, ASearchOfADisconnectedClientIsCancelledAndAStoreErrorIsHistoryUnavailable) {
  hub.send(rb, {"r", "b1", "hi"});
  hub.search(rb, SearchRequestAt{"r", SearchQuery{"hi", 0, 10}});
  hub.leave(rb, "r", /*disconnected=*/true);
  bob.leave_room("r");
  settle();
  EXPECT_EQ(bob.types(), "ack,left");
  EXPECT_EQ(bob.searches_answered, 1);
  struct Failing final : History {
    void append(const std::string&, const Message&, AppendDone) override {}
    void read(const std::string&, const PageQuery&, PageDone d) override { d(Page{}); }
    void search(const std::string&, const SearchQuery&, SearchDone d) override {
      d(Error{Errc::Unavailable, "disk"});
    }
    std::vector<std::pair<std::string, uint64_t>> last_ids() const override { return {}; }
    Status health() const override { return {}; }
  } failing;
  FakeLoops one(1);
  ChatHub hub2(one.ports(), failing, no_bus, {});
  FakeMember c(Protocol::Json, {"r"});
  MemberRef rc = hub2.attach(0, &c);
  hub2.join(rc, json_join("r", "uc", "c"));
  hub2.search(rc, SearchRequestAt{"r", SearchQuery{"x", 0, 10}});
  one.run();
  ASSERT_EQ(c.types(), "joined,error");
  EXPECT_TRUE(has(c.received[1], R"("code":"history_unavailable","message")"));
  EXPECT_TRUE(has(c.received[1], R"("ref":"search")"));
  EXPECT_EQ(c.searches_answered, 1);
}

// --- the directory ------------------------------------------------------------

struct Directory : ::testing::Test {
  FakeLoops loops{3};
  MemoryHistory history{{}};
  ChatHub hub{loops.ports(), history, no_bus, {}};
  std::vector<std::unique_ptr<FakeMember>> members;
  std::vector<MemberRef> refs;

  MemberRef join(const std::string& room, const std::string& user) {
    members.push_back(std::make_unique<FakeMember>(Protocol::Json, std::vector<std::string>{room}));
    refs.push_back(hub.attach(static_cast<uint32_t>(members.size() % 3), members.back().get()));
    hub.join(refs.back(), json_join(room, user, user));
    loops.run();
    return refs.back();
  }
  std::string ask(RoomsRequest request) {
    FakeMember& asker = *members.front();
    asker.received.clear();
    hub.rooms(refs.front(), request);
    loops.run();
    EXPECT_EQ(asker.types(), "rooms");
    return asker.received.empty() ? "" : asker.received[0];
  }
};

TEST_F(Directory, ListsOpenRoomsAcrossLoopsLargestFirstOrByNameAndPages) {
  join("lobby", "u1");
  join("lobby", "u2");
  join("lobby", "u3");
  join("Lounge", "u4");
  MemberRef second_tab = join("Lounge", "u4");  // one person, two connections
  join("我的房间", "u5");
  join("我的房间", "u6");
  join("zeta", "u7");
  EXPECT_EQ(ask({}),
            R"({"type":"rooms","rooms":[{"room":"lobby","users":3,"online":3},)"
            R"({"room":"我的房间","users":2,"online":2},{"room":"Lounge","users":1,"online":2},)"
            R"({"room":"zeta","users":1,"online":1}],"total":4})");
  RoomsRequest by_name;
  by_name.order = RoomsRequest::Order::Name;
  by_name.limit = 2;
  std::string first = ask(by_name);
  EXPECT_TRUE(has(first, R"([{"room":"lobby",)")) << first;
  EXPECT_TRUE(has(first, R"({"room":"Lounge",)")) << first;  // case ignored
  EXPECT_TRUE(has(first, R"("next":"Lounge")")) << first;
  by_name.after = "Lounge";
  std::string second = ask(by_name);
  EXPECT_TRUE(has(second, R"([{"room":"zeta",)")) << second;
  EXPECT_TRUE(has(second, R"({"room":"我的房间",)")) << second;
  EXPECT_FALSE(has(second, "next")) << second;
  // By people, paged: the cursor carries the count.
  RoomsRequest by_users;
  by_users.limit = 1;
  std::string top = ask(by_users);
  EXPECT_TRUE(has(top, R"("next":"3:lobby")")) << top;
  by_users.after = "3:lobby";
  EXPECT_TRUE(has(ask(by_users), R"([{"room":"我的房间","users":2,)"));
  // A prefix, ignoring case, in any script.
  RoomsRequest prefix;
  prefix.query = "LO";
  std::string lo = ask(prefix);
  EXPECT_TRUE(has(lo, R"("lobby")") && has(lo, R"("Lounge")") && !has(lo, "zeta")) << lo;
  prefix.query = "我的";
  EXPECT_TRUE(has(ask(prefix), R"([{"room":"我的房间")"));
  // A token's rooms claim: only the rooms it allows are listed.
  members.front()->received.clear();
  hub.rooms(refs.front(), {}, [](std::string_view room) { return room.starts_with("l"); });
  loops.run();
  EXPECT_EQ(members.front()->received.at(0),
            R"({"type":"rooms","rooms":[{"room":"lobby","users":3,"online":3}],"total":4})");
  // Counts follow leaves; an empty room leaves the directory.
  hub.leave(second_tab, "Lounge");
  hub.leave(refs[7], "zeta");
  loops.run();
  std::string now = ask({});
  EXPECT_TRUE(has(now, R"({"room":"Lounge","users":1,"online":1})")) << now;
  EXPECT_FALSE(has(now, "zeta"));
  EXPECT_TRUE(has(now, R"("total":3)"));
}

}  // namespace
}  // namespace parley::chat
