// Store health: failures reach the caller as Errors with the right kind, health() reports them
// and recovers, and the files the store creates are private.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/history_store.h"
#include "store/sqlite_database.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): shared test helpers

class StoreHealthTest : public ::testing::Test {
 protected:
  HistoryStore::Options options() const {
    // A fast file watch, so the tests need not wait a second for it.
    return {.dir = dir_.path(), .file_check_interval = std::chrono::milliseconds(10)};
  }
  fs::path db_file() const { return dir_.path() / "history.sqlite3"; }

  static std::string health_message(const HistoryStore& store) {
    Status health = store.health();
    return health ? "" : health.error().message;
  }

  TempDir dir_;
};

// Removing history.sqlite3 or its -wal leaves SQLite writing into an unlinked file that the next
// start will not see: unhealthy, appends refused with the reason, until the same file is back.
class RemovedFileTest : public StoreHealthTest,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(RemovedFileTest, IsUnhealthyAndRefusesAppendsUntilTheFileIsBack) {
  const fs::path file = db_file().string() + GetParam();
  auto store = open_store(options());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append(*store, message("a", "one")));
  ASSERT_TRUE(store->health());

  const fs::path kept = dir_.path() / "kept";
  fs::create_hard_link(file, kept);
  fs::remove(file);
  ASSERT_TRUE(eventually([&] { return !store->health(); }));
  EXPECT_NE(health_message(*store).find(file.string() + " was removed"), std::string::npos)
      << health_message(*store);
  Appended refused = append(*store, message("a", "two"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Unavailable);
  EXPECT_NE(refused.error().message.find("was removed"), std::string::npos)
      << refused.error().message;

  // The same inode back under its name: the next write succeeds and the store is healthy.
  fs::create_hard_link(kept, file);
  Appended stored = append(*store, message("a", "two"));
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->id, 2u) << "the refused append used up no id";
  EXPECT_TRUE(store->health()) << health_message(*store);
  EXPECT_EQ(ids(recent(*store, "a", 10)), (Ids{1, 2}));
  EXPECT_EQ(store->stats().append_errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(DatabaseAndWal, RemovedFileTest, ::testing::Values("", "-wal"));

TEST_F(StoreHealthTest, ReplacedDatabaseFileIsUnhealthy) {
  auto store = open_store(options());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append(*store, message("a", "one")));
  // Say, a restore copied over the live file.
  const fs::path copy = dir_.path() / "copy";
  fs::copy_file(db_file(), copy);
  fs::rename(copy, db_file());
  ASSERT_TRUE(eventually([&] { return !store->health(); }));
  EXPECT_NE(health_message(*store).find("was replaced"), std::string::npos)
      << health_message(*store);
  Appended refused = append(*store, message("a", "two"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Unavailable);
}

// A write that the file system refuses (here: past RLIMIT_FSIZE, as on a full disk) fails the
// batch with Unavailable and makes the store unhealthy until a write succeeds.
TEST_F(StoreHealthTest, FailedWriteIsUnhealthyUntilAWriteSucceeds) {
  auto store = open_store(options());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append(*store, message("a", "small")));

  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);  // EFBIG instead of a signal
  rlimit limit{}, saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  limit = saved;
  limit.rlim_cur = 1 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  Appended failed = append(*store, message("a", std::string(2 << 20, 'x')));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ASSERT_EQ(::sigaction(SIGXFSZ, &previous, nullptr), 0);

  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::Unavailable) << failed.error().message;
  EXPECT_NE(failed.error().message.find("write failed"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(health_message(*store).find("write failed"), std::string::npos)
      << health_message(*store);

  Appended stored = append(*store, message("a", "after"));
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->id, 2u);
  EXPECT_TRUE(store->health()) << health_message(*store);
}

// A read that fails reaches its caller as an Error, never as an empty page.
TEST_F(StoreHealthTest, CorruptPageIsAReadErrorNotAnEmptyPage) {
  {
    auto store = open_store(options());
    ASSERT_TRUE(store);
    for (int i = 0; i < 200; ++i) store->append(message("r", std::string(100, 'x')), nullptr);
    store->flush();
  }  // closed: the WAL is checkpointed into the file and removed
  int64_t root = 0, page_size = 0;
  {
    auto db = SqliteDatabase::open(db_file(), SQLITE_OPEN_READONLY);
    ASSERT_TRUE(db);
    auto root_page = db->query_int64("SELECT rootpage FROM sqlite_schema WHERE name = 'messages'");
    auto size = db->query_int64("PRAGMA page_size");
    ASSERT_TRUE(root_page && size);
    root = *root_page;
    page_size = *size;
  }
  {
    const int fd = ::open(db_file().c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string garbage(static_cast<std::size_t>(page_size), '\xff');
    ASSERT_EQ(::pwrite(fd, garbage.data(), garbage.size(), (root - 1) * page_size),
              static_cast<ssize_t>(garbage.size()));
    ::close(fd);
  }
  auto store = open_store({.dir = dir_.path(), .retain_per_room = 0});
  ASSERT_TRUE(store);
  Page page = recent(*store, "r", 10);
  ASSERT_FALSE(page) << "a damaged page must not read as " << page->messages.size() << " messages";
  EXPECT_EQ(page.error().code, Errc::Corrupt) << page.error().message;
  EXPECT_NE(page.error().message.find("read failed"), std::string::npos) << page.error().message;
  EXPECT_NE(health_message(*store).find("read failed"), std::string::npos)
      << health_message(*store);
  EXPECT_EQ(store->stats().read_errors, 1u);
}

mode_t mode_of(const fs::path& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
  return st.st_mode & 0777;
}

// Every file the store creates is 0600, whether the umask would allow more (0) or less (0277).
TEST_F(StoreHealthTest, CreatesItsFilesOwnerOnlyWhateverTheUmask) {
  for (mode_t umask : {0000, 0277}) {
    TempDir dir;
    const mode_t previous = ::umask(umask);
    {
      auto store = open_store({.dir = dir.path()});
      ASSERT_TRUE(store);
      ASSERT_TRUE(append(*store, message("a", "x")));
      for (const char* name :
           {"history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm", "history.lock"}) {
        EXPECT_EQ(mode_of(dir.path() / name), 0600u)
            << name << " with umask 0" << std::oct << umask;
      }
    }
    ::umask(previous);
  }
}

TEST_F(StoreHealthTest, CountsWhatItDoes) {
  auto store = open_store(options());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append(*store, message("a", "one", "c1")));
  ASSERT_TRUE(append(*store, message("a", "one again", "c1")));
  ASSERT_TRUE(append(*store, message("b", "two")));
  ASSERT_TRUE(recent(*store, "a", 10));
  HistoryStore::Stats stats = store->stats();
  EXPECT_EQ(stats.appends_committed, 2u);
  EXPECT_EQ(stats.appends_duplicate, 1u);
  EXPECT_EQ(stats.append_errors, 0u);
  EXPECT_EQ(stats.reads, 1u);
  EXPECT_EQ(stats.read_errors, 0u);
  EXPECT_GE(stats.transactions, 3u);
  EXPECT_GT(stats.database_bytes, 0u);
  EXPECT_GT(stats.used_bytes, 0u);
  EXPECT_LE(stats.used_bytes, stats.database_bytes);
  EXPECT_GT(stats.wal_bytes, 0u);
}

}  // namespace
}  // namespace parley::store
