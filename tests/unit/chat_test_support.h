// Fakes for the chat core's tests: loops as task queues the test runs
// (FakeLoops), a History that holds every append, read and search until the
// test releases it (ManualHistory), members that record what they get
// (FakeMember), and buses. Shared by chat_hub_test.cpp and
// chat_features_test.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/bus.h"
#include "chat/chat_hub.h"
#include "chat/loop_port.h"
#include "chat/member.h"
#include "chat/memory_history.h"

namespace parley::chat::testing {

// Loops as task queues the test runs. While a queue runs, only that loop
// counts as "this thread"; between runs the test drives every loop.
class FakeLoops {
 public:
  explicit FakeLoops(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) loops_.push_back(std::make_unique<Loop>(*this, i));
  }
  std::vector<LoopPort*> ports() {
    std::vector<LoopPort*> out;
    for (auto& l : loops_) out.push_back(l.get());
    return out;
  }
  // Runs every queue until all are empty.
  void run() {
    for (bool any = true; any;) {
      any = false;
      for (auto& l : loops_) {
        while (!l->queue.empty()) {
          auto t = std::move(l->queue.front());
          l->queue.pop_front();
          current_ = static_cast<int>(l->index);
          t();
          current_ = -1;
          any = true;
        }
      }
    }
  }
  // Runs the timers due within `ms` (in order), and what they post.
  void advance(std::chrono::milliseconds ms) {
    now_ += ms;
    for (bool any = true; any;) {
      any = false;
      for (auto& l : loops_) {
        for (auto it = l->timers.begin(); it != l->timers.end();) {
          if (it->first > now_) break;
          auto t = std::move(it->second);
          it = l->timers.erase(it);
          current_ = static_cast<int>(l->index);
          t();
          current_ = -1;
          any = true;
        }
      }
      run();
    }
  }

 private:
  struct Loop final : LoopPort {
    Loop(FakeLoops& o, std::size_t i) : owner(o), index(i) {}
    void post(Task task) override { queue.push_back(std::move(task)); }
    void run_after(std::chrono::milliseconds delay, Task task) override {
      timers.emplace(owner.now_ + delay, std::move(task));
    }
    bool in_loop_thread() const override {
      return owner.current_ < 0 || owner.current_ == static_cast<int>(index);
    }
    FakeLoops& owner;
    std::size_t index;
    std::deque<Task> queue;
    std::multimap<std::chrono::milliseconds, Task> timers;
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  int current_ = -1;
  std::chrono::milliseconds now_{0};
};

// Holds appends, reads and searches until released, in order, with a chosen
// outcome. What it stores and answers comes from a MemoryHistory behind it,
// so the change rules, quotes and pages are the real ones.
class ManualHistory final : public History {
 public:
  // With `earlier` messages stored in room "r" before the test starts.
  explicit ManualHistory(uint64_t earlier = 0) {
    for (uint64_t id = 1; id <= earlier; ++id) {
      backing.append("r",
                     Message{0, 1000 + static_cast<int64_t>(id), "u0", "old", "",
                             "earlier " + std::to_string(id)},
                     [](Result<Appended>) {});
    }
  }
  void append(const std::string& room, const Message& message, AppendDone done) override {
    appends.push_back({room, message, std::move(done)});
  }
  void read(const std::string& room, const PageQuery& query, PageDone done) override {
    reads.push_back({room, query, std::move(done), std::nullopt});
    // A store reads when it gets to the query, maybe long before its answer
    // reaches the room: the page may be older than what happened since.
    if (read_at_request) backing.read(room, query, [&](Result<Page> p) { reads.back().page = p; });
  }
  void search(const std::string& room, const SearchQuery& query, SearchDone done) override {
    searches.push_back({room, query, std::move(done)});
  }
  std::vector<std::pair<std::string, uint64_t>> last_ids() const override {
    return backing.last_ids();
  }
  Status health() const override { return {}; }

  // Stores the oldest held append (or refuses it, by the rules).
  void commit_next() {
    auto a = std::move(appends.front());
    appends.pop_front();
    backing.append(a.room, a.message, std::move(a.done));
  }
  void fail_next() {
    auto a = std::move(appends.front());
    appends.pop_front();
    a.done(Error{Errc::Unavailable, "disk full"});
  }
  // Answers the oldest held read from what is stored now.
  void answer_next_read() {
    auto r = std::move(reads.front());
    reads.pop_front();
    if (r.page) return r.done(std::move(*r.page));
    backing.read(r.room, r.query, std::move(r.done));
  }
  void fail_next_read() {
    auto r = std::move(reads.front());
    reads.pop_front();
    r.done(Error{Errc::Unavailable, "I/O error"});
  }
  void answer_next_search() {
    auto r = std::move(searches.front());
    searches.pop_front();
    backing.search(r.room, r.query, std::move(r.done));
  }

  struct HeldAppend {
    std::string room;
    Message message;
    AppendDone done;
  };
  struct HeldRead {
    std::string room;
    PageQuery query;
    PageDone done;
    std::optional<Result<Page>> page;  // read_at_request: what was read then
  };
  struct HeldSearch {
    std::string room;
    SearchQuery query;
    SearchDone done;
  };
  std::deque<HeldAppend> appends;
  std::deque<HeldRead> reads;
  std::deque<HeldSearch> searches;
  MemoryHistory backing{{0, 0}};
  bool read_at_request = false;
};

// Records every text it is handed.
class FakeMember : public Member {
 public:
  FakeMember(Protocol p, std::vector<std::string> rooms) : protocol_(p), rooms_(std::move(rooms)) {}
  Protocol protocol() const override { return protocol_; }
  void deliver(const SharedText& text, bool) override { received.emplace_back(text->text()); }
  bool in_room(std::string_view room) const override {
    for (const auto& r : rooms_) {
      if (r == room) return true;
    }
    return false;
  }
  void history_answered() override { ++histories_answered; }
  void search_answered() override { ++searches_answered; }
  void join_refused(std::string_view room) override { refused.emplace_back(room); }
  void leave_room(std::string_view room) { std::erase(rooms_, room); }
  // Received texts that contain `needle`.
  std::vector<std::string> with(std::string_view needle) const {
    std::vector<std::string> out;
    for (const auto& r : received) {
      if (r.find(needle) != std::string::npos) out.push_back(r);
    }
    return out;
  }
  std::string types() const {  // "joined,ack,message" ...
    std::string out;
    for (const auto& r : received) {
      auto at = r.find(R"("type":")");
      if (at == std::string::npos) continue;
      auto end = r.find('"', at + 8);
      if (!out.empty()) out += ',';
      out += r.substr(at + 8, end - at - 8);
    }
    return out;
  }
  std::vector<std::string> received;
  std::vector<std::string> refused;
  int histories_answered = 0;
  int searches_answered = 0;

 private:
  Protocol protocol_;
  std::vector<std::string> rooms_;
};

// One process: nothing to publish to.
inline LocalBus no_bus;

// Records what a room's home tells the other nodes.
class RecordingBus final : public Bus {
 public:
  void subscribe(const std::string& room) override { log.push_back("+" + room); }
  void unsubscribe(const std::string& room) override { log.push_back("-" + room); }
  void publish(const std::string& room, const Message& m) override {
    log.push_back(room + "#" + std::to_string(m.id) + ":" + m.text);
  }
  std::vector<std::string> log;
};

inline JoinRequest json_join(std::string room, std::string user, std::string name,
                             std::optional<uint64_t> since = {}) {
  return JoinRequest{std::move(room), std::move(user), std::move(name), Protocol::Json, since};
}

}  // namespace parley::chat::testing
