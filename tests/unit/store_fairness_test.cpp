// The store's scheduling (issue 7): the writer and the reader take rooms in turn, the reader
// also the connections of a room; the bytes in flight to the writer are bounded per room and
// overall; a read whose connection is gone is not run. Deterministic: the writer (or reader) is
// held inside a callback while the work under test queues up behind it.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "store/fair_queue.h"
#include "store/work_queue.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

using namespace test_support;

std::vector<std::string> drain(FairQueue<std::string>& q) {
  std::vector<std::string> out;
  while (!q.empty()) out.push_back(q.pop().first.item);
  return out;
}

TEST(StoreFairQueue, TakesKeysInTurnAndKeepsEachKeysOrder) {
  FairQueue<std::string> q;
  for (int i = 0; i < 4; ++i) q.push("a", 0, "a" + std::to_string(i));
  q.push("b", 0, "b0");
  q.push("c", 0, "c0");
  q.push("b", 0, "b1");
  EXPECT_EQ(drain(q), (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "a2", "a3"}));
  EXPECT_EQ(q.pushed(), 7u);
}

TEST(StoreFairQueue, WithinAKeyTakesLanesInTurn) {
  FairQueue<std::string> q;
  for (int i = 0; i < 3; ++i) q.push("room", 1, "flood" + std::to_string(i));
  q.push("room", 2, "honest");
  q.push("other", 7, "other");
  EXPECT_EQ(drain(q), (std::vector<std::string>{"flood0", "other", "honest", "flood1", "flood2"}));
}

TEST(StoreFairQueue, TurnsAreWeighted) {
  // Quantum 4096: a 10,000-byte item is served on its key's third visit (credit 12,288), the
  // next on the second after it (2,288 left over + 8,192); light items once per visit.
  FairQueue<std::string> q(4096);
  q.push("heavy", 0, "h0", 10000);
  q.push("heavy", 0, "h1", 10000);
  for (int i = 0; i < 6; ++i) q.push("light", 0, "l" + std::to_string(i), 100);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"l0", "l1", "h0", "l2", "l3", "h1", "l4", "l5"}));
}

TEST(StoreFairQueue, OldestSeqIsTheOldestStillQueued) {
  FairQueue<std::string> q;
  EXPECT_EQ(q.oldest_seq(), 0u);
  q.push("a", 0, "a0");  // seq 0
  q.push("a", 0, "a1");  // seq 1
  q.push("b", 0, "b0");  // seq 2
  EXPECT_EQ(q.oldest_seq(), 0u);
  EXPECT_EQ(q.front().item, "a0");
  EXPECT_EQ(q.pop().first.item, "a0");
  EXPECT_EQ(q.oldest_seq(), 1u);
  EXPECT_EQ(q.pop().first.item, "b0");  // b's turn: a1 (seq 1) still waits
  EXPECT_EQ(q.oldest_seq(), 1u);
  q.pop();
  EXPECT_EQ(q.oldest_seq(), 3u);  // empty: pushed()
}

TEST(StoreWorkQueue, ByteBudgetsPerKeyAndOverallAdmitOneItemWhenEmpty) {
  using Push = WorkQueue<int>::PushResult;
  WorkQueue<int> q({.items = 0, .bytes = 250, .key_bytes = 100});
  EXPECT_EQ(q.push("a", 0, 60, 1), Push::kQueued);
  EXPECT_EQ(q.push("a", 0, 40, 2), Push::kQueued);        // 100: at the room's budget
  EXPECT_EQ(q.push("a", 0, 1, 3), Push::kKeyOverBudget);  // 101
  EXPECT_EQ(q.push("b", 0, 500, 4), Push::kOverBudget);   // b is empty, but 600 > 250 overall
  EXPECT_EQ(q.push("c", 0, 150, 5), Push::kQueued);       // 250: at the overall budget
  EXPECT_EQ(q.push("d", 0, 1, 6), Push::kOverBudget);
  EXPECT_EQ(q.charged(), 250u);
  std::vector<int> batch;
  ASSERT_TRUE(q.pop_batch(batch, 10));
  EXPECT_EQ(batch, (std::vector<int>{1, 5, 2}));
  q.release("a", 60);
  q.release("a", 40);
  q.release("c", 150);
  EXPECT_EQ(q.charged(), 0u);
  // Nothing in flight: one item is admitted whatever its size, and only one.
  EXPECT_EQ(q.push("b", 0, 500, 4), Push::kQueued);
  EXPECT_EQ(q.push("e", 0, 1, 7), Push::kOverBudget);
  EXPECT_EQ(q.push("b", 0, 1, 8), Push::kKeyOverBudget);
  q.release("b", 500);
  EXPECT_EQ(q.charged(), 0u);
}

TEST(StoreWorkQueue, BatchStopsAtItsWeight) {
  WorkQueue<int> q;
  for (int i = 0; i < 10; ++i) q.push(i % 2 == 0 ? "a" : "b", 0, 0, int{i});
  std::vector<int> batch;
  ASSERT_TRUE(q.pop_batch(batch, 100, 3, [](int) { return uint64_t{1}; }));
  EXPECT_EQ(batch, (std::vector<int>{0, 1, 2}));
  ASSERT_TRUE(q.pop_batch(batch, 100, 10, [](int) { return uint64_t{1000}; }));
  EXPECT_EQ(batch, (std::vector<int>{3}));  // one item at least, whatever it weighs
  // A heavy item is not added to a batch it would take past the limit: it goes alone next.
  ASSERT_TRUE(q.pop_batch(batch, 100, 10, [](int i) { return uint64_t(i == 5 ? 1000 : 1); }));
  EXPECT_EQ(batch, (std::vector<int>{4}));
  ASSERT_TRUE(q.pop_batch(batch, 100, 10, [](int i) { return uint64_t(i == 5 ? 1000 : 1); }));
  EXPECT_EQ(batch, (std::vector<int>{5}));
}

// Holds the store's writer (or reader) inside a callback until release().
class Hold {
 public:
  auto callback() {
    return [this](auto) {
      entered_.set_value();
      released_.get_future().wait_for(kTimeout);
    };
  }
  void wait_entered() {
    ASSERT_EQ(entered_.get_future().wait_for(kTimeout), std::future_status::ready);
  }
  void release() { released_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> released_;
};

// Records the order in which callbacks ran (they run on one store thread, but the test reads
// the record on its own).
class Order {
 public:
  auto note(std::string what) {
    return [this, what = std::move(what)](auto) {
      std::lock_guard lock(mutex_);
      seen_.push_back(what);
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

HistoryStore::Options options_in(const TempDir& dir) {
  HistoryStore::Options options;
  options.dir = dir.path();
  options.commit_interval = std::chrono::microseconds(0);
  return options;
}

TEST(StoreFairness, WriterTakesRoomsInTurn) {
  TempDir dir;
  auto store = open_store(options_in(dir));
  ASSERT_TRUE(store);
  Hold hold;
  store->append(message("held", "x"), hold.callback());
  hold.wait_entered();
  // Queued while the writer is held: a burst in one room, then one message in another.
  Order order;
  for (int i = 0; i < 5; ++i) {
    store->append(message("burst", "b" + std::to_string(i)),
                  order.note("burst" + std::to_string(i)));
  }
  store->append(message("quiet", "q"), order.note("quiet"));
  hold.release();
  store->flush();
  EXPECT_EQ(order.seen(),
            (std::vector<std::string>{"burst0", "quiet", "burst1", "burst2", "burst3", "burst4"}));
  EXPECT_EQ(ids(recent(*store, "burst", 10)), (Ids{1, 2, 3, 4, 5}));  // a room's order kept
}

TEST(StoreFairness, AppendsPastTheByteBudgetsAreRefusedAsOverloaded) {
  TempDir dir;
  HistoryStore::Options options = options_in(dir);
  const uint64_t one = stored_bytes(message("room", std::string(100, 'x')));
  options.max_pending_room_bytes = 2 * one;
  options.max_pending_bytes = 3 * one;
  auto store = open_store(options);
  ASSERT_TRUE(store);
  Hold hold;
  store->append(message("room", std::string(100, 'x')), hold.callback());
  hold.wait_entered();  // its bytes stay charged until its callback returns
  Order order;
  store->append(message("room", std::string(100, 'y')), order.note("second"));
  Appended refused = append(*store, message("room", std::string(100, 'z')));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Overloaded);
  EXPECT_EQ(refused.error().detail,
            static_cast<unsigned char>(HistoryStore::OverloadKind::kRoomBytes));
  store->append(message("othr", std::string(100, 'o')), order.note("other"));
  Appended full = append(*store, message("thrd", std::string(100, 't')));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().detail, static_cast<unsigned char>(HistoryStore::OverloadKind::kBytes));
  EXPECT_EQ(store->stats().pending_bytes, 3 * one);
  EXPECT_EQ(store->stats().appends_over_budget, 2u);
  EXPECT_TRUE(store->health());  // a budget is not a failure of the store
  hold.release();
  store->flush();
  EXPECT_EQ(order.seen(), (std::vector<std::string>{"second", "other"}));
  EXPECT_EQ(store->stats().pending_bytes, 0u);
  EXPECT_TRUE(append(*store, message("room", "again")));  // room for it once the disk caught up
}

TEST(StoreFairness, ReaderTakesRoomsAndLanesInTurnAndSkipsCancelledReads) {
  TempDir dir;
  auto store = open_store(options_in(dir));
  ASSERT_TRUE(store);
  for (const char* room : {"flood", "quiet"}) ASSERT_TRUE(append(*store, message(room, "m")));
  Hold hold;
  store->recent("flood", 10, hold.callback());
  hold.wait_entered();
  Order order;
  auto gone = std::make_shared<std::atomic<bool>>(false);
  for (int i = 0; i < 3; ++i) {
    store->recent("flood", 10, order.note("flooder" + std::to_string(i)), {.lane = 1});
  }
  // A connection that goes away while its reads wait: they are answered Closed, unread.
  std::promise<Page> cancelled;
  store->recent("flood", 10, [&](Page page) { cancelled.set_value(std::move(page)); },
                {.lane = 3, .cancelled = gone});
  store->recent("flood", 10, order.note("honest"), {.lane = 2});
  store->recent("quiet", 10, order.note("quiet"), {.lane = 4});
  gone->store(true);
  hold.release();
  Page skipped = cancelled.get_future().get();
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.error().code, Errc::Closed);
  ASSERT_TRUE(eventually([&] { return order.seen().size() == 5; }));
  EXPECT_EQ(order.seen(),
            (std::vector<std::string>{"flooder0", "quiet", "honest", "flooder1", "flooder2"}));
  const HistoryStore::Stats stats = store->stats();
  EXPECT_EQ(stats.reads_cancelled, 1u);
  EXPECT_EQ(stats.read_errors, 0u);
  EXPECT_TRUE(store->health());
}

}  // namespace
}  // namespace parley::store
