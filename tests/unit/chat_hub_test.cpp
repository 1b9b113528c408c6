// ChatHub over in-memory "loops": each loop is a task queue run by the test,
// so cross-loop ordering is checked deterministically, without threads.
#include "chat/chat_hub.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "chat/member.h"

namespace parley::chat {
namespace {

class FakeLoops {
 public:
  explicit FakeLoops(std::size_t n) : queues_(n) {}
  std::vector<ChatHub::Post> posts() {
    std::vector<ChatHub::Post> out;
    for (std::size_t i = 0; i < queues_.size(); ++i) {
      out.push_back([this, i](std::function<void()> t) { queues_[i].push_back(std::move(t)); });
    }
    return out;
  }
  // Runs every queue until all are empty.
  void run() {
    for (bool any = true; any;) {
      any = false;
      for (auto& q : queues_) {
        while (!q.empty()) {
          auto t = std::move(q.front());
          q.pop_front();
          t();
          any = true;
        }
      }
    }
  }

 private:
  std::vector<std::deque<std::function<void()>>> queues_;
};

// Records the text of every frame it is handed (server frames are unmasked:
// skip the 2-byte header of short frames, the 4-byte one of longer).
class FakeMember : public Member {
 public:
  FakeMember(Protocol p, std::vector<std::string> rooms) : protocol_(p), rooms_(std::move(rooms)) {}
  Protocol protocol() const override { return protocol_; }
  void deliver(const SharedFrame& frame, bool) override {
    std::size_t len = static_cast<unsigned char>((*frame)[1]) & 0x7f;
    received.push_back(frame->substr(len == 126 ? 4 : 2));
  }
  bool in_room(std::string_view room) const override {
    for (const auto& r : rooms_) {
      if (r == room) return true;
    }
    return false;
  }
  std::vector<std::string> received;

 private:
  Protocol protocol_;
  std::vector<std::string> rooms_;
};

TEST(ChatHub, PlainTextRoomAcrossLoopsKeepsTheSeedsBehaviour) {
  FakeLoops loops(2);
  ChatHub hub(loops.posts(), nullptr, {});
  FakeMember a(Protocol::PlainText, {"lobby"}), b(Protocol::PlainText, {"lobby"});
  MemberRef ra = hub.attach(0, &a);
  MemberRef rb = hub.attach(1, &b);
  hub.join(ra, {"lobby", "guest-1", "guest-1", Protocol::PlainText, {}});
  loops.run();
  hub.join(rb, {"lobby", "guest-2", "guest-2", Protocol::PlainText, {}});
  loops.run();
  EXPECT_EQ(a.received, (std::vector<std::string>{"系统通知: 新用户加入,当前在线2人"}));
  EXPECT_TRUE(b.received.empty());  // the joiner hears nothing, as in the seed

  hub.send(rb, {"lobby", "guest-2", "", "hello"});
  loops.run();
  EXPECT_EQ(a.received.back(), "hello");
  EXPECT_TRUE(b.received.empty());  // never its own message

  hub.leave(rb, "lobby");
  loops.run();
  EXPECT_EQ(a.received.back(), "系统通知: 用户离开,当前在线1人");
}

TEST(ChatHub, JsonMemberGetsJoinedWithHistoryThenLiveMessagesOnce) {
  FakeLoops loops(2);
  ChatHub hub(loops.posts(), nullptr, {});
  FakeMember writer(Protocol::Json, {"r"}), reader(Protocol::Json, {"r"});
  MemberRef rw = hub.attach(0, &writer);
  hub.join(rw, {"r", "u1", "alice", Protocol::Json, {}});
  loops.run();
  hub.send(rw, {"r", "u1", "c1", "first"});
  loops.run();
  ASSERT_FALSE(writer.received.empty());
  EXPECT_NE(writer.received.back().find(R"("type":"ack")"), std::string::npos);

  MemberRef rr = hub.attach(1, &reader);
  hub.join(rr, {"r", "u2", "bob", Protocol::Json, {}});
  hub.send(rw, {"r", "u1", "c2", "second"});
  loops.run();
  ASSERT_EQ(reader.received.size(), 2u);
  EXPECT_NE(reader.received[0].find(R"("type":"joined")"), std::string::npos);
  EXPECT_NE(reader.received[0].find("first"), std::string::npos);
  EXPECT_EQ(reader.received[0].find("second"), std::string::npos);
  EXPECT_NE(reader.received[1].find(R"("type":"message")"), std::string::npos);
  EXPECT_NE(reader.received[1].find("second"), std::string::npos);
}

TEST(ChatHub, AJoinAnsweredAfterLeavingDoesNotReAddTheMember) {
  FakeLoops loops(1);
  ChatHub hub(loops.posts(), nullptr, {});
  FakeMember gone(Protocol::PlainText, {}), other(Protocol::PlainText, {"r"});
  MemberRef rg = hub.attach(0, &gone);
  MemberRef ro = hub.attach(0, &other);
  hub.join(ro, {"r", "g1", "g1", Protocol::PlainText, {}});
  loops.run();
  hub.join(rg, {"r", "g2", "g2", Protocol::PlainText, {}});  // `gone` no longer wants "r"
  loops.run();
  hub.send(ro, {"r", "g1", "", "hi"});
  loops.run();
  EXPECT_TRUE(gone.received.empty());
}

TEST(ChatHub, DetachedMembersAreNeverReached) {
  FakeLoops loops(1);
  ChatHub hub(loops.posts(), nullptr, {});
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

}  // namespace
}  // namespace parley::chat
