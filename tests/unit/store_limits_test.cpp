// What bounds the store's disk use: retention in bounded steps, the cap on the database
// (max_bytes, largest rooms first), and the WAL kept short by the background checkpointer.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/history_store.h"
#include "store/history_trimmer.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): shared test helpers

class StoreLimitsTest : public ::testing::Test {
 protected:
  fs::path wal_file() const { return dir_.path() / "history.sqlite3-wal"; }
  uint64_t wal_size() const {
    std::error_code ec;
    const auto size = fs::file_size(wal_file(), ec);
    return ec ? 0 : size;
  }
  // Every id of `room` that is left, oldest first.
  static Ids all_ids(HistoryStore& store, const std::string& room) {
    return ids(after(store, room, 0, 1'000'000));
  }
  static void expect_contiguous_up_to(const Ids& ids, uint64_t last) {
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.back(), last);
    for (std::size_t i = 1; i < ids.size(); ++i) ASSERT_EQ(ids[i], ids[i - 1] + 1);
  }

  TempDir dir_;
};

TEST_F(StoreLimitsTest, RetentionCatchesUpInBoundedSteps) {
  constexpr uint64_t kMessages = 3 * HistoryTrimmer::kMaxDeletesPerStep + 10;
  auto store = open_store({.dir = dir_.path(), .retain_per_room = 0});
  ASSERT_TRUE(store);
  for (uint64_t i = 0; i < kMessages; ++i) store->append(message("a", "x"), nullptr);
  store.reset();
  // Reopened with a lower limit: every room is looked at once after open.
  store = open_store({.dir = dir_.path(),
                      .retain_per_room = 5,
                      .retention_interval = std::chrono::milliseconds(0)});
  ASSERT_TRUE(store);
  const uint64_t transactions_before = store->stats().transactions;
  ASSERT_TRUE(append(*store, message("a", "y")));
  store->flush();
  EXPECT_EQ(all_ids(*store, "a"),
            (Ids{kMessages - 3, kMessages - 2, kMessages - 1, kMessages, kMessages + 1}));
  const HistoryStore::Stats stats = store->stats();
  EXPECT_EQ(stats.deleted_by_retention, kMessages + 1 - 5);
  // The append's own transaction, then at least 4 steps of at most kMaxDeletesPerStep each.
  EXPECT_GE(stats.transactions - transactions_before, 5u);
}

TEST_F(StoreLimitsTest, CapDeletesTheOldestOfTheLargestRoomFirst) {
  constexpr uint64_t kCap = 1 << 20;
  auto store = open_store({.dir = dir_.path(), .retain_per_room = 0, .max_bytes = kCap});
  ASSERT_TRUE(store);
  for (const char* room : {"s1", "s2", "s3"}) {
    for (int i = 0; i < 50; ++i) store->append(message(room, std::string(100, 's')), nullptr);
  }
  constexpr uint64_t kBig = 2000;  // 2 MB of text: twice the cap
  for (uint64_t i = 0; i < kBig; ++i) {
    store->append(message("big", std::string(1000, 'b')), nullptr);
  }
  store->flush();

  const HistoryStore::Stats stats = store->stats();
  EXPECT_LE(stats.used_bytes, kCap);
  EXPECT_GT(stats.deleted_by_cap, 0u);
  EXPECT_EQ(stats.deleted_by_retention, 0u);
  for (const char* room : {"s1", "s2", "s3"}) {
    EXPECT_EQ(all_ids(*store, room).size(), 50u) << room << ": small rooms keep their history";
  }
  // The big room lost its oldest messages, and only those.
  const Ids big = all_ids(*store, "big");
  expect_contiguous_up_to(big, kBig);
  EXPECT_GT(big.front(), 1u);
  EXPECT_EQ(stats.deleted_by_cap, big.front() - 1);
  // Ids go on where they were.
  Appended next = append(*store, message("big", "next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, kBig + 1);
}

TEST_F(StoreLimitsTest, CapLevelsTheLargestRoomsDownTogether) {
  uint64_t used = 0;
  {
    auto store = open_store({.dir = dir_.path(), .retain_per_room = 0});
    ASSERT_TRUE(store);
    for (int i = 0; i < 2000; ++i) store->append(message("a", std::string(100, 'a')), nullptr);
    for (int i = 0; i < 1000; ++i) store->append(message("b", std::string(100, 'b')), nullptr);
    for (int i = 0; i < 100; ++i) store->append(message("c", std::string(100, 'c')), nullptr);
    store->flush();
    used = store->stats().used_bytes;
  }
  // A cap a third below that: about 37% of the pages must go (down to 90% of the cap).
  const uint64_t cap = used / 3 * 2;
  auto store = open_store({.dir = dir_.path(), .retain_per_room = 0, .max_bytes = cap});
  ASSERT_TRUE(store);
  ASSERT_TRUE(append(*store, message("d", "after the reopen")));
  store->flush();
  const HistoryStore::Stats stats = store->stats();
  EXPECT_LE(stats.used_bytes, cap);
  const std::size_t a = all_ids(*store, "a").size(), b = all_ids(*store, "b").size(),
                    c = all_ids(*store, "c").size();
  EXPECT_EQ(c, 100u) << "the smallest room is not touched while the larger ones are larger";
  // `a` (the largest) was leveled down to `b`, and then both lost messages together.
  EXPECT_LT(b, 1000u);
  EXPECT_NEAR(static_cast<double>(a), static_cast<double>(b), 40.0);
  EXPECT_EQ(stats.deleted_by_cap, 3000u - a - b);
}

TEST_F(StoreLimitsTest, WriterNeverCheckpoints) {
  // No background checkpoint within this test's writes: the WAL must then hold every page
  // written, which it would not if the writer's own commits checkpointed (SQLite's default
  // does at 1000 pages, about 4 MiB, and the WAL would then stay near that size).
  auto store = open_store({.dir = dir_.path(),
                           .retain_per_room = 0,
                           .checkpoint_bytes = uint64_t{1} << 40,
                           .wal_restart_bytes = uint64_t{1} << 40});
  ASSERT_TRUE(store);
  for (int i = 0; i < 2000; ++i) store->append(message("a", std::string(4000, 'x')), nullptr);
  store->flush();
  if (store->stats().checkpoints > 0) {
    GTEST_SKIP() << "the writer paused for over a second (a loaded machine), so the idle "
                    "checkpoint ran: nothing to conclude";
  }
  // 2000 x 4000 bytes of text: about 2000 pages, all of them in the WAL.
  EXPECT_GE(wal_size(), 7u << 20);
}

TEST_F(StoreLimitsTest, CheckpointerKeepsTheWalShortUnderSustainedWrites) {
  constexpr uint64_t kRestart = 1 << 20;
  auto store = open_store({.dir = dir_.path(),
                           .retain_per_room = 0,
                           .checkpoint_bytes = 256 << 10,
                           .wal_restart_bytes = kRestart});
  ASSERT_TRUE(store);
  // 32 MiB in batches of 64 appends, back to back.
  uint64_t largest = 0;
  for (int round = 0; round < 128; ++round) {
    for (int i = 0; i < 64; ++i) store->append(message("a", std::string(4000, 'x')), nullptr);
    store->flush();
    largest = std::max<uint64_t>(largest, wal_size());
  }
  const HistoryStore::Stats stats = store->stats();
  EXPECT_GT(stats.checkpoints, 0u);
  // Bounded by the restart size plus what piles up while a restart waits for its moment; a
  // WAL that never restarted would hold all 32 MiB.
  EXPECT_LT(largest, 8 * kRestart)
      << stats.checkpoints << " checkpoints, " << stats.writer_holds << " holds";
  EXPECT_EQ(stats.checkpoint_errors, 0u);
  EXPECT_EQ(all_ids(*store, "a").size(), 128u * 64u);
}

}  // namespace
}  // namespace parley::store
