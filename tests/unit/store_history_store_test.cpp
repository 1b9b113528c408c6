#include "store/history_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_database.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): shared test helpers

class HistoryStoreTest : public ::testing::Test {
 protected:
  HistoryStore::Options options() const { return {.dir = dir_.path()}; }

  static std::unique_ptr<HistoryStore> open(const HistoryStore::Options& options) {
    return open_store(options);
  }

  TempDir dir_;
};

TEST_F(HistoryStoreTest, IdsIncreasePerRoomWithoutGaps) {
  auto store = open(options());
  ASSERT_TRUE(store);
  std::map<std::string, Ids> assigned;
  for (int i = 0; i < 5; ++i) {
    for (std::string room : {"a", "b"}) {
      if (room == "b" && i >= 3) continue;
      Appended result = append(*store, message(room, room + std::to_string(i)));
      ASSERT_TRUE(result) << result.error().message;
      EXPECT_FALSE(result->duplicate);
      EXPECT_GT(result->ts_ms, 0) << "ts 0 means: stamp it";
      assigned[room].push_back(result->id);
    }
  }
  EXPECT_EQ(assigned["a"], (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(assigned["b"], (Ids{1, 2, 3}));

  Page page = recent(*store, "a", 100);
  ASSERT_EQ(ids(page), (Ids{1, 2, 3, 4, 5}));
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(page->messages[2].text, "a2");
  EXPECT_EQ(page->messages[2].room, "a");
  EXPECT_EQ(page->messages[2].user_id, "u1");
  EXPECT_EQ(page->messages[2].sender_name, "Ann");
}

TEST_F(HistoryStoreTest, StoresEveryFieldAsGiven) {
  auto store = open(options());
  ASSERT_TRUE(store);
  AppendRequest request = message("room", std::string("multi\nline \0 with nul", 22), "c-1",
                                  "user-7", 1'700'000'000'123);
  request.sender_name = "Zoë";
  Appended result = append(*store, request);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->ts_ms, 1'700'000'000'123);

  Page page = recent(*store, "room", 1);
  ASSERT_EQ(page->messages.size(), 1u);
  const StoredMessage& m = page->messages[0];
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.ts_ms, 1'700'000'000'123);
  EXPECT_EQ(m.user_id, "user-7");
  EXPECT_EQ(m.sender_name, "Zoë");
  EXPECT_EQ(m.client_id, "c-1");
  EXPECT_EQ(m.text, request.text);
}

TEST_F(HistoryStoreTest, DuplicateClientIdReturnsTheOriginal) {
  auto store = open(options());
  ASSERT_TRUE(store);
  Appended first = append(*store, message("a", "first", "c1", "u1", 1000));
  ASSERT_TRUE(first);
  ASSERT_TRUE(append(*store, message("a", "second")));

  Appended resend = append(*store, message("a", "resend", "c1", "u1", 2000));
  ASSERT_TRUE(resend) << resend.error().message;
  EXPECT_TRUE(resend->duplicate);
  EXPECT_EQ(resend->id, 1u);
  EXPECT_EQ(resend->ts_ms, 1000);

  // Dedup is per (room, user, client_id); empty client ids never collide.
  EXPECT_FALSE(append(*store, message("a", "other user", "c1", "u2"))->duplicate);
  EXPECT_FALSE(append(*store, message("b", "other room", "c1", "u1"))->duplicate);
  EXPECT_FALSE(append(*store, message("a", "no id"))->duplicate);
  Appended again = append(*store, message("a", "no id"));
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->id, 5u) << "a duplicate must not use up an id";

  Page page = recent(*store, "a", 100);
  ASSERT_EQ(ids(page), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(page->messages[0].text, "first");
}

TEST_F(HistoryStoreTest, DuplicateWithinOneBatchReturnsTheOriginal) {
  auto store = open(options());
  ASSERT_TRUE(store);
  // Queued back to back, so they usually share a transaction; either way the answer is the same.
  std::promise<Appended> first, second;
  store->append(message("a", "one", "same"), [&](Appended r) { first.set_value(std::move(r)); });
  store->append(message("a", "two", "same"), [&](Appended r) { second.set_value(std::move(r)); });
  store->flush();
  Appended a = first.get_future().get(), b = second.get_future().get();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->duplicate);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(b->id, a->id);
  EXPECT_EQ(ids(recent(*store, "a", 10)), (Ids{1}));
}

TEST_F(HistoryStoreTest, PagesAndTruncation) {
  auto store = open(options());
  ASSERT_TRUE(store);
  for (int i = 1; i <= 10; ++i) store->append(message("a", "m" + std::to_string(i)), nullptr);
  store->flush();

  Page page = recent(*store, "a", 3);
  EXPECT_EQ(ids(page), (Ids{8, 9, 10}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->messages.back().text, "m10");
  page = recent(*store, "a", 10);
  EXPECT_EQ(ids(page).size(), 10u);
  EXPECT_FALSE(page->truncated);
  EXPECT_FALSE(recent(*store, "a", 50)->truncated);

  page = before(*store, "a", 8, 3);
  EXPECT_EQ(ids(page), (Ids{5, 6, 7}));
  EXPECT_TRUE(page->truncated);
  page = before(*store, "a", 4, 3);
  EXPECT_EQ(ids(page), (Ids{1, 2, 3}));
  EXPECT_FALSE(page->truncated);
  page = before(*store, "a", 2, 5);
  EXPECT_EQ(ids(page), (Ids{1}));
  EXPECT_FALSE(page->truncated);

  // after(): what a reconnecting client missed, paging forward; truncated when more than
  // `limit` are missing.
  page = after(*store, "a", 7, 5);
  EXPECT_EQ(ids(page), (Ids{8, 9, 10}));
  EXPECT_FALSE(page->truncated);
  page = after(*store, "a", 2, 3);
  EXPECT_EQ(ids(page), (Ids{3, 4, 5}));
  EXPECT_TRUE(page->truncated);
  page = after(*store, "a", 5, 5);
  EXPECT_EQ(ids(page), (Ids{6, 7, 8, 9, 10}));
  EXPECT_FALSE(page->truncated) << "exactly `limit` missing is not truncated";
  page = after(*store, "a", 10, 5);
  EXPECT_TRUE(page->messages.empty());
  EXPECT_FALSE(page->truncated);

  page = recent(*store, "nobody-here", 5);
  EXPECT_TRUE(page->messages.empty());
  EXPECT_FALSE(page->truncated);
}

TEST_F(HistoryStoreTest, RestartContinuesIds) {
  {
    auto store = open(options());
    ASSERT_TRUE(store);
    for (int i = 0; i < 3; ++i) store->append(message("a", "x"), nullptr);
    store->append(message("b", "y"), nullptr);
  }  // the destructor commits what is queued
  auto store = open(options());
  ASSERT_TRUE(store);
  using LastIds = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(store->last_ids(), (LastIds{{"a", 3}, {"b", 1}}));
  EXPECT_EQ(append(*store, message("a", "after restart"))->id, 4u);
  EXPECT_EQ(append(*store, message("c", "new room"))->id, 1u);
  EXPECT_EQ(ids(recent(*store, "a", 10)), (Ids{1, 2, 3, 4}));
  EXPECT_EQ(store->last_ids(), (LastIds{{"a", 4}, {"b", 1}, {"c", 1}}));
}

TEST_F(HistoryStoreTest, ConcurrentAppendsKeepEachSendersOrder) {
  HistoryStore::Options o = options();
  o.max_batch = 16;  // many transactions, so batches interleave with the producers
  auto store = open(o);
  ASSERT_TRUE(store);

  constexpr int kThreads = 4, kPerThread = 250;
  struct Ack {
    int thread, seq;
    std::string room;
    Appended result;
  };
  std::mutex mutex;
  std::vector<Ack> acks;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int seq = 0; seq < kPerThread; ++seq) {
        std::string room = seq % 2 == 0 ? "even" : "odd";
        store->append(message(room, "t" + std::to_string(t)), [&, t, seq, room](Appended r) {
          std::lock_guard lock(mutex);
          acks.push_back({t, seq, room, r});
        });
      }
    });
  }
  for (std::thread& p : producers) p.join();
  store->flush();

  std::lock_guard lock(mutex);
  ASSERT_EQ(acks.size(), std::size_t{kThreads * kPerThread});
  std::map<std::string, std::vector<uint64_t>> ids_by_room;
  std::map<std::pair<int, std::string>, uint64_t> last_id_of_sender;
  for (const Ack& ack : acks) {  // callbacks run in commit (= id) order
    ASSERT_TRUE(ack.result) << ack.result.error().message;
    ids_by_room[ack.room].push_back(ack.result->id);
    uint64_t& last = last_id_of_sender[{ack.thread, ack.room}];
    EXPECT_GT(ack.result->id, last) << "thread " << ack.thread << " seq " << ack.seq;
    last = ack.result->id;
  }
  for (auto& [room, room_ids] : ids_by_room) {
    ASSERT_EQ(room_ids.size(), std::size_t{kThreads * kPerThread / 2});
    for (std::size_t i = 0; i < room_ids.size(); ++i) EXPECT_EQ(room_ids[i], i + 1) << room;
  }
  EXPECT_EQ(recent(*store, "odd", 1)->messages.at(0).id, uint64_t{kThreads * kPerThread / 2});
}

TEST_F(HistoryStoreTest, FlushWaitsForEveryQueuedAppendAndItsCallback) {
  auto store = open(options());
  ASSERT_TRUE(store);
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < 500; ++i) {
    store->append(message("a", "x"), [&](const Appended& r) {
      if (r) acknowledged.fetch_add(1);
    });
  }
  store->flush();
  EXPECT_EQ(acknowledged.load(), 500);
  EXPECT_EQ(ids(recent(*store, "a", 1)), (Ids{500}));
  store->flush();  // nothing queued: returns at once
}

TEST_F(HistoryStoreTest, DestructorCommitsWhatIsQueued) {
  std::atomic<int> acknowledged{0};
  {
    auto store = open(options());
    ASSERT_TRUE(store);
    for (int i = 0; i < 300; ++i) {
      store->append(message("a", "x"), [&](const Appended& r) {
        if (r) acknowledged.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(acknowledged.load(), 300);
  auto store = open(options());
  ASSERT_TRUE(store);
  EXPECT_EQ(ids(recent(*store, "a", 1)), (Ids{300}));
}

TEST_F(HistoryStoreTest, RetentionByCountKeepsTheNewestPerRoom) {
  HistoryStore::Options o = options();
  o.retain_per_room = 5;
  o.retention_interval = std::chrono::milliseconds(0);  // every batch
  auto store = open(o);
  ASSERT_TRUE(store);
  for (int i = 0; i < 12; ++i) store->append(message("a", "x"), nullptr);
  for (int i = 0; i < 3; ++i) store->append(message("b", "x"), nullptr);
  store->flush();

  Page page = recent(*store, "a", 100);
  EXPECT_EQ(ids(page), (Ids{8, 9, 10, 11, 12}));
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(ids(recent(*store, "b", 100)), (Ids{1, 2, 3}));
  EXPECT_EQ(append(*store, message("a", "x"))->id, 13u);
  // Retention runs after the batch's acknowledgements, in a step of its own: flush() waits
  // for it.
  store->flush();
  EXPECT_EQ(ids(recent(*store, "a", 100)), (Ids{9, 10, 11, 12, 13}));
}

TEST_F(HistoryStoreTest, RetentionWaitsForItsInterval) {
  HistoryStore::Options o = options();
  o.retain_per_room = 5;
  o.retention_interval = std::chrono::hours(1);
  auto store = open(o);
  ASSERT_TRUE(store);
  for (int i = 0; i < 12; ++i) store->append(message("a", "x"), nullptr);
  store->flush();
  // Not per insert: nothing is deleted before the interval is up.
  EXPECT_EQ(ids(recent(*store, "a", 100)).size(), 12u);
}

TEST_F(HistoryStoreTest, RetentionByAgeNeverReusesIds) {
  HistoryStore::Options o = options();
  o.retain_age = std::chrono::hours(1);
  o.retention_interval = std::chrono::milliseconds(0);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t two_hours_ago = now_ms - 2 * 3600 * 1000;
  {
    auto store = open(o);
    ASSERT_TRUE(store);
    store->append(message("a", "old", "", "u1", two_hours_ago), nullptr);
    store->append(message("a", "old", "", "u1", two_hours_ago), nullptr);
    store->append(message("a", "new", "", "u1", now_ms), nullptr);
    store->append(message("b", "old", "", "u1", two_hours_ago), nullptr);
    store->flush();

    Page page = recent(*store, "a", 100);
    EXPECT_EQ(ids(page), (Ids{3}));
    EXPECT_FALSE(page->truncated);
    EXPECT_TRUE(recent(*store, "b", 100)->messages.empty());
    EXPECT_EQ(append(*store, message("b", "new"))->id, 2u);
    EXPECT_EQ(append(*store, message("c", "old", "", "u1", two_hours_ago))->id, 1u);
  }
  // Room c has no message left at all; its next id still continues after a restart.
  auto store = open(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(append(*store, message("c", "new"))->id, 2u);
}

TEST_F(HistoryStoreTest, RetentionByAgeRemovesOnlyTheOldestPrefix) {
  HistoryStore::Options o = options();
  o.retain_age = std::chrono::hours(1);
  o.retention_interval = std::chrono::milliseconds(0);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t old_ms = now_ms - 2 * 3600 * 1000;
  auto store = open(o);
  ASSERT_TRUE(store);
  for (int64_t ts : {old_ms, now_ms, old_ms}) {
    store->append(message("a", "x", "", "u1", ts), nullptr);
  }
  store->flush();
  // History stays contiguous: the stale message after a fresh one is kept until that one goes.
  EXPECT_EQ(ids(recent(*store, "a", 100)), (Ids{2, 3}));
}

TEST_F(HistoryStoreTest, RefusesAppendsBeyondMaxPendingInsteadOfGrowing) {
  HistoryStore::Options o = options();
  o.max_pending_appends = 4;
  auto store = open(o);
  ASSERT_TRUE(store);

  // Park the writer thread inside a callback so the queue cannot drain.
  std::promise<void> writer_parked, release;
  auto released = release.get_future().share();
  store->append(message("a", "x"), [&, released](const Appended&) {
    writer_parked.set_value();
    released.wait_for(kTimeout);
  });
  ASSERT_EQ(writer_parked.get_future().wait_for(kTimeout), std::future_status::ready);

  std::vector<Error> refused;
  std::atomic<int> stored{0};
  for (int i = 0; i < 6; ++i) {
    store->append(message("a", "x"), [&](const Appended& r) {
      if (r) {
        stored.fetch_add(1);
      } else {
        refused.push_back(r.error());  // runs right here, on this thread
      }
    });
  }
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].code, Errc::Overloaded);
  EXPECT_NE(refused[0].message.find("overloaded"), std::string::npos) << refused[0].message;
  release.set_value();
  store->flush();
  EXPECT_EQ(stored.load(), 4);
}

TEST_F(HistoryStoreTest, FailedBatchReportsTheErrorAndLeavesNoGap) {
  HistoryStore::Options o = options();
  o.busy_timeout = std::chrono::milliseconds(50);
  auto store = open(o);
  ASSERT_TRUE(store);
  ASSERT_EQ(append(*store, message("a", "one"))->id, 1u);

  // Another connection (say, a backup tool) holds the write lock past busy_timeout.
  auto other = SqliteDatabase::open(dir_.path() / "history.sqlite3", SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(other) << other.error().message;
  SqliteDatabase& blocker = *other;
  ASSERT_TRUE(blocker.exec("BEGIN IMMEDIATE"));
  Appended failed = append(*store, message("a", "two"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::Unavailable);
  EXPECT_NE(failed.error().message.find("locked"), std::string::npos) << failed.error().message;
  // Unhealthy, with the reason, until a write succeeds.
  Status health = store->health();
  ASSERT_FALSE(health);
  EXPECT_NE(health.error().message.find("locked"), std::string::npos) << health.error().message;
  ASSERT_TRUE(blocker.exec("ROLLBACK"));

  // The failed append used up no id; the client's resend gets the next one.
  EXPECT_EQ(append(*store, message("a", "two"))->id, 2u);
  EXPECT_EQ(ids(recent(*store, "a", 10)), (Ids{1, 2}));
  EXPECT_TRUE(store->health());
  HistoryStore::Stats stats = store->stats();
  EXPECT_EQ(stats.appends_committed, 2u);
  EXPECT_EQ(stats.append_errors, 1u);
}

TEST_F(HistoryStoreTest, OneStorePerDirectory) {
  auto store = open(options());
  ASSERT_TRUE(store);
  auto second = HistoryStore::open(options());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::Unavailable);
  EXPECT_NE(second.error().message.find("already in use"), std::string::npos)
      << second.error().message;
  store.reset();
  EXPECT_TRUE(open(options()));
}

}  // namespace
}  // namespace parley::store
