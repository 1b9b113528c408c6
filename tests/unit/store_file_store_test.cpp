// The uploads' file store (store/file_store.h): paths, the disk budget, dedup,
// who may attach a file, and removal once no message references it.
#include "store/file_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/uploads.h"

namespace parley::store {
namespace {
namespace fs = std::filesystem;

const std::string kId(64, 'a');
const std::string kOther = std::string(63, 'b') + "c";

TEST(DiskBudget, ReservesUpToTheLimitAndGivesBack) {
  DiskBudget b(100);
  EXPECT_TRUE(b.reserve(60));
  EXPECT_FALSE(b.reserve(41));
  EXPECT_TRUE(b.reserve(40));
  EXPECT_FALSE(b.reserve(1));
  b.unreserve(60);
  b.add(60);  // the upload was stored
  EXPECT_EQ(b.used(), 60u);
  EXPECT_FALSE(b.reserve(1));
  b.remove(60);
  EXPECT_TRUE(b.reserve(60));
  EXPECT_EQ(b.reserved(), 100u);
}

TEST(DiskBudget, ZeroMeansNoLimitAndNothingUnderflows) {
  DiskBudget b(0);
  EXPECT_TRUE(b.reserve(uint64_t{1} << 62));
  b.unreserve(uint64_t{1} << 63);
  b.remove(5);
  EXPECT_EQ(b.reserved(), 0u);
  EXPECT_EQ(b.used(), 0u);
}

TEST(FilePath, TwoHexDigitsMakeTheFolder) {
  EXPECT_EQ(file_path("/d", "abcdef"), fs::path("/d/ab/cdef"));
}

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parley-files-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<FileStore> open(uint64_t budget,
                                  std::chrono::seconds ttl = std::chrono::seconds(3600),
                                  bool forget = false) {
    auto opened = FileStore::open({dir_, budget, ttl, forget});
    EXPECT_TRUE(opened) << opened.error().message;
    return std::move(opened).value();
  }

  // Uploads `size` bytes as `id` by `user`, the way the receiver does.
  Result<StoredFile> upload(FileStore& store, const std::string& id, uint64_t size,
                            const std::string& user) {
    if (!store.reserve(size)) return Error{Errc::Overloaded, "budget"};
    auto temp = store.create_temp();
    EXPECT_TRUE(temp);
    std::string data(size, 'x');
    EXPECT_EQ(::write(temp->second, data.data(), data.size()), static_cast<ssize_t>(size));
    ::close(temp->second);
    return store.commit(temp->first, StoredFile{id, size, "text/plain; charset=utf-8"}, user, size);
  }

  fs::path dir_;
};

TEST_F(FileStoreTest, StoresContentAddressedAndDeduplicates) {
  auto store = open(1000);
  ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
  EXPECT_TRUE(fs::exists(dir_ / "aa" / std::string(62, 'a')));
  EXPECT_EQ(store->used_bytes(), 100u);
  // The same bytes again, by someone else: stored once, counted once.
  ASSERT_TRUE(upload(*store, kId, 100, "u-2"));
  EXPECT_EQ(store->used_bytes(), 100u);
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  // Each uploader may attach it; nobody else may.
  EXPECT_TRUE(store->claim("u-1", kId));
  EXPECT_TRUE(store->claim("u-2", kId));
  EXPECT_EQ(store->claim("u-3", kId).error().code, Errc::NotFound);
  EXPECT_EQ(store->claim("u-1", kOther).error().code, Errc::NotFound);
}

TEST_F(FileStoreTest, TheBudgetCountsStoredAndReservedBytes) {
  auto store = open(250);
  ASSERT_TRUE(upload(*store, kId, 200, "u-1"));
  EXPECT_FALSE(store->reserve(51));
  EXPECT_TRUE(store->reserve(50));
  store->unreserve(50);
}

TEST_F(FileStoreTest, DeletingTheLastReferenceRemovesTheFile) {
  auto store = open(1000);
  ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
  ASSERT_TRUE(store->claim("u-1", kId));
  store->referenced("lobby", 7, kId, "u-1");
  store->referenced("other", 3, kId, "u-1");  // the same file in a second message
  store->released("lobby", 7);
  EXPECT_TRUE(store->find(kId));
  store->released("lobby", 7);  // twice: nothing more happens
  EXPECT_TRUE(store->find(kId));
  store->released("other", 3);
  EXPECT_FALSE(store->find(kId));
  EXPECT_FALSE(fs::exists(file_path(dir_, kId)));
  EXPECT_EQ(store->used_bytes(), 0u);
}

TEST_F(FileStoreTest, APendingUploadOfTheSameBytesKeepsTheFile) {
  auto store = open(1000);
  ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
  store->referenced("lobby", 1, kId, "u-1");
  ASSERT_TRUE(upload(*store, kId, 100, "u-2"));  // not attached yet
  store->released("lobby", 1);
  EXPECT_TRUE(store->claim("u-2", kId)) << "u-2 is about to send it";
}

TEST_F(FileStoreTest, UnattachedUploadsExpireAndReferencesSurviveARestart) {
  {
    auto store = open(1000, std::chrono::seconds(0));
    ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
    ASSERT_TRUE(upload(*store, kOther, 10, "u-1"));
    store->referenced("lobby", 1, kOther, "u-1");
    store->sweep();
    EXPECT_FALSE(store->find(kId)) << "never attached, its time is up";
    EXPECT_TRUE(store->find(kOther));
  }
  auto reopened = open(1000);
  EXPECT_TRUE(reopened->find(kOther));
  EXPECT_EQ(reopened->used_bytes(), 10u);
  // With forget_references (memory history), the messages are gone: so are the files.
  reopened.reset();
  auto forgetful = open(1000, std::chrono::seconds(3600), true);
  EXPECT_FALSE(forgetful->find(kOther));
  EXPECT_EQ(forgetful->used_bytes(), 0u);
}

TEST_F(FileStoreTest, RetentionReleasesABatchOfMessages) {
  auto store = open(1000);
  ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
  ASSERT_TRUE(upload(*store, kOther, 10, "u-1"));
  store->referenced("lobby", 1, kId, "u-1");
  store->referenced("lobby", 2, kOther, "u-1");
  store->referenced("lobby", 3, kOther, "u-1");
  store->released(std::vector<FileRef>{{"lobby", 1, kId}, {"lobby", 2, kOther}});
  EXPECT_FALSE(store->find(kId)) << "its only message is gone";
  EXPECT_TRUE(store->find(kOther)) << "message 3 still shows it";
  EXPECT_EQ(store->used_bytes(), 10u);
}

// The history's list of messages with a file replaces the index's copy at
// start: a reference missed (a crash before referenced()) is restored, one
// whose message is gone is dropped, and only then is anything swept.
TEST_F(FileStoreTest, ReferencesAreRebuiltFromTheHistoryBeforeAnySweep) {
  {
    auto store = open(1000, std::chrono::seconds(0));
    ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
    ASSERT_TRUE(upload(*store, kOther, 10, "u-1"));
    store->referenced("lobby", 1, kOther, "u-1");  // stale: the history lost message 1
    // kId was attached to lobby/2, but the process died before referenced().
  }
  FileStore::Options options{dir_, 1000, std::chrono::seconds(0)};
  options.rebuild_references = true;
  auto opened = FileStore::open(options);
  ASSERT_TRUE(opened) << opened.error().message;
  FileStore& store = **opened;
  EXPECT_TRUE(store.find(kId)) << "not swept before the history's list is in";
  store.rebuild_references({{"lobby", 2, kId}}, false);
  EXPECT_TRUE(store.find(kId));
  EXPECT_FALSE(store.find(kOther));
  EXPECT_EQ(store.used_bytes(), 100u);
  store.released("lobby", 2);
  EXPECT_FALSE(store.find(kId));
}

TEST_F(FileStoreTest, AReleaseBeforeTheRebuildIsNotUndoneByIt) {
  {
    auto store = open(1000, std::chrono::seconds(0));
    ASSERT_TRUE(upload(*store, kId, 100, "u-1"));
    store->referenced("lobby", 1, kId, "u-1");
  }
  FileStore::Options options{dir_, 1000, std::chrono::seconds(0)};
  options.rebuild_references = true;
  auto opened = FileStore::open(options);
  ASSERT_TRUE(opened) << opened.error().message;
  // Retention removed message 1 after the history listed it, before the rebuild.
  (*opened)->released(std::vector<FileRef>{{"lobby", 1, kId}});
  EXPECT_TRUE((*opened)->find(kId)) << "nothing is removed before the rebuild";
  (*opened)->rebuild_references({{"lobby", 1, kId}}, false);
  EXPECT_FALSE((*opened)->find(kId));
}

TEST(TextCheck, Utf8WithoutControlCharactersAcrossPieces) {
  app::TextCheck t;
  std::string s = "line 1\tok\r\n中";
  t.feed(s.substr(0, s.size() - 2));
  EXPECT_FALSE(t.text()) << "cut in the middle of a character";
  t.feed(s.substr(s.size() - 2));
  EXPECT_TRUE(t.text());
  t.feed(std::string("\0", 1));
  EXPECT_FALSE(t.text());
  app::TextCheck bad;
  bad.feed("\xff");
  EXPECT_FALSE(bad.text());
}

}  // namespace
}  // namespace parley::store
