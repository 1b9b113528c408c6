// Opening: schema versions and migrations, and the errors a bad directory or file gives.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "store/append_request.h"
#include "store/history_store.h"
#include "store/schema_migrations.h"
#include "store/sqlite_database.h"
#include "store/sqlite_statement.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

class StoreSchemaTest : public ::testing::Test {
 protected:
  fs::path db_file() const { return dir_.path() / "history.sqlite3"; }

  // A connection of our own to look at (or tamper with) the file while no store has it open.
  SqliteDatabase raw_db() const {
    auto opened = SqliteDatabase::open(db_file(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(opened).value() : SqliteDatabase();
  }
  int64_t user_version() const {
    SqliteDatabase db = raw_db();
    Result<int64_t> version = db.query_int64("PRAGMA user_version");
    EXPECT_TRUE(version) << version.error().message;
    return version ? *version : -1;
  }
  Error open_error() const {
    auto opened = HistoryStore::open({.dir = dir_.path()});
    if (!opened) return opened.error();
    return Error(Errc::Internal, "");
  }
  static bool store_works(HistoryStore& store) {
    std::promise<bool> done;
    store.append({.room = "r", .user_id = "u", .text = "hello"},
                 [&](const Result<AppendResult>& r) { done.set_value(r.has_value()); });
    store.flush();
    return done.get_future().get();
  }

  TempDir dir_;
};

TEST_F(StoreSchemaTest, MigrationStepsAreNumberedInOrder) {
  auto steps = schema_migrations();
  ASSERT_FALSE(steps.empty());
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].to_version, int64_t(i + 1));
  EXPECT_EQ(current_schema_version(), steps.back().to_version);
}

TEST_F(StoreSchemaTest, NewDatabaseGetsTheCurrentVersion) {
  {
    auto opened = HistoryStore::open({.dir = dir_.path()});
    ASSERT_TRUE(opened) << opened.error().message;
  }
  EXPECT_EQ(user_version(), current_schema_version());
}

TEST_F(StoreSchemaTest, MigratesAnExistingVersionZeroDatabase) {
  {
    // A valid SQLite file that never saw our schema (user_version 0).
    SqliteDatabase db = raw_db();
    ASSERT_TRUE(db.exec("CREATE TABLE scratch (x); DROP TABLE scratch;"));
  }
  ASSERT_EQ(user_version(), 0);
  auto opened = HistoryStore::open({.dir = dir_.path()});
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE(store_works(**opened));
  opened = Error();  // close
  EXPECT_EQ(user_version(), current_schema_version());
}

TEST_F(StoreSchemaTest, StepTwoCountsTheMessagesAlreadyStored) {
  // A version 1 database with messages (as the previous build left it).
  const std::string text_with_nul("a\0b", 3);
  const AppendRequest stored[] = {
      {.room = "r", .user_id = "u", .sender_name = "Zoë", .client_id = "c1", .text = "hello"},
      {.room = "r", .user_id = "u", .sender_name = "Zoë", .client_id = "", .text = text_with_nul},
      {.room = "s", .user_id = "v", .sender_name = "Bo", .client_id = "", .text = "x"},
  };
  {
    SqliteDatabase db = raw_db();
    ASSERT_TRUE(db.exec(schema_migrations()[0].sql));
    ASSERT_TRUE(db.exec("PRAGMA user_version = 1"));
    SqliteStatement insert;
    ASSERT_TRUE(
        insert.prepare(db.handle(), "INSERT INTO messages VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)"));
    uint64_t id = 0;
    for (const AppendRequest& m : stored) {
      insert.bind(1, m.room);
      insert.bind(2, static_cast<int64_t>(m.room == "r" ? ++id : 1));
      insert.bind(3, m.user_id);
      insert.bind(4, m.sender_name);
      insert.bind(5, m.client_id);
      insert.bind(6, m.text);
      ASSERT_TRUE(insert.run());
    }
    ASSERT_TRUE(db.exec("INSERT INTO rooms VALUES ('r', 5), ('s', 1), ('empty', 7)"));
  }
  auto opened = HistoryStore::open({.dir = dir_.path()});
  ASSERT_TRUE(opened) << opened.error().message;
  HistoryStore& store = **opened;
  {
    SqliteDatabase db = raw_db();
    SqliteStatement rooms;
    ASSERT_TRUE(rooms.prepare(db.handle(), "SELECT room, last_id, messages, bytes FROM rooms"));
    std::map<std::string, std::vector<int64_t>> found;
    for (Result<bool> row = rooms.next(); row && *row; row = rooms.next()) {
      found[rooms.column_text(0)] = {rooms.column_int64(1), rooms.column_int64(2),
                                     rooms.column_int64(3)};
    }
    const auto r_bytes = static_cast<int64_t>(stored_bytes(stored[0]) + stored_bytes(stored[1]));
    const auto s_bytes = static_cast<int64_t>(stored_bytes(stored[2]));
    EXPECT_EQ(found["r"], (std::vector<int64_t>{5, 2, r_bytes}));
    EXPECT_EQ(found["s"], (std::vector<int64_t>{1, 1, s_bytes}));
    EXPECT_EQ(found["empty"], (std::vector<int64_t>{7, 0, 0}));
  }
  // The messages moved to the new table whole, and dedup still knows them.
  test_support::Page page = test_support::recent(store, "r", 10);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[0].client_id, "c1");
  EXPECT_EQ(page->messages[1].text, text_with_nul);
  test_support::Appended resend = test_support::append(store, stored[0]);
  ASSERT_TRUE(resend) << resend.error().message;
  EXPECT_TRUE(resend->duplicate);
  EXPECT_EQ(resend->id, 1u);
  EXPECT_EQ(test_support::append(store, stored[2])->id, 2u);
  EXPECT_EQ(test_support::append(store, stored[1])->id, 6u) << "ids go on from rooms.last_id";
}

TEST_F(StoreSchemaTest, StepFourAddsAttachmentsToAVersionThreeDatabase) {
  // A version 3 database (the room's log, before attachments) with a message, a reply, an
  // edit and a reaction, written by the steps that built it.
  {
    SqliteDatabase db = raw_db();
    for (int step = 0; step < 3; ++step) ASSERT_TRUE(db.exec(schema_migrations()[step].sql));
    ASSERT_TRUE(db.exec("PRAGMA user_version = 3"));
    ASSERT_TRUE(db.exec(
        "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text) VALUES"
        " ('r', 1, 10, 'u', 'Zoë', 'c1', 'hello world');"
        "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text, target,"
        " quote_user, quote_from, quote_text) VALUES"
        " ('r', 2, 11, 'v', 'Bo', '', 'a reply', 1, 'u', 'Zoë', 'hello world');"
        "INSERT INTO messages (room, id, ts_ms, user_id, sender_name, client_id, text, kind,"
        " target) VALUES ('r', 3, 12, 'u', 'Zoë', 'c2', 'hello there', 1, 1);"
        "UPDATE messages SET text = 'hello there', edited_ms = 12, rev = 3 WHERE id = 1;"
        "INSERT INTO rooms VALUES ('r', 3, 3, 100);"));
  }
  auto opened = HistoryStore::open({.dir = dir_.path()});
  ASSERT_TRUE(opened) << opened.error().message;
  HistoryStore& store = **opened;
  EXPECT_EQ(current_schema_version(), 4);
  EXPECT_TRUE(store.take_files_at_open().empty());
  // The old entries read as before, without a file; dedup and search still know them.
  test_support::Page page = test_support::recent(store, "r", 10);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[0].text, "hello there");
  EXPECT_EQ(page->messages[0].edited_ms, 12);
  EXPECT_EQ(page->messages[1].quote.text, "hello world");
  for (const StoredMessage& m : page->messages) EXPECT_EQ(m.attachment.file, "");
  test_support::Appended resend = test_support::append(
      store, {.room = "r", .user_id = "u", .sender_name = "Zoë", .client_id = "c1", .text = "x"});
  ASSERT_TRUE(resend) << resend.error().message;
  EXPECT_TRUE(resend->duplicate);
  // A message with a file is stored whole, and found by its text.
  const StoredAttachment file{std::string(64, 'f'), "cat.png", 64, "image/png", 3, 2};
  AppendRequest with_file{.room = "r", .user_id = "u", .sender_name = "Zoë", .text = "a cat"};
  with_file.attachment = file;
  test_support::Appended stored = test_support::append(store, with_file);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->id, 4u);
  page = test_support::recent(store, "r", 1);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->messages.size(), 1u);
  const StoredAttachment& got = page->messages[0].attachment;
  EXPECT_EQ(std::tie(got.file, got.name, got.size, got.type, got.width, got.height),
            std::tie(file.file, file.name, file.size, file.type, file.width, file.height));
  std::promise<Result<SearchPage>> found;
  store.search("r", "hello", 0, 10, [&](Result<SearchPage> r) { found.set_value(std::move(r)); });
  Result<SearchPage> hits = found.get_future().get();
  ASSERT_TRUE(hits) << hits.error().message;
  EXPECT_EQ(hits->messages.size(), 1u) << "the edited text, indexed by step 3";
}

TEST_F(StoreSchemaTest, ReopensAnUpToDateDatabaseUnchanged) {
  for (int round = 0; round < 2; ++round) {
    auto opened = HistoryStore::open({.dir = dir_.path()});
    ASSERT_TRUE(opened) << opened.error().message;
    HistoryStore& store = **opened;
    EXPECT_TRUE(store_works(store));
    EXPECT_EQ(store.last_ids().at(0).second, uint64_t(round + 1));
  }
  EXPECT_EQ(user_version(), current_schema_version());
}

TEST_F(StoreSchemaTest, RefusesADatabaseFromANewerVersion) {
  const int64_t future_version = current_schema_version() + 1;
  {
    SqliteDatabase db = raw_db();
    std::string sql = "PRAGMA user_version = " + std::to_string(future_version);
    ASSERT_TRUE(db.exec(sql.c_str()));
  }
  Error error = open_error();
  EXPECT_EQ(error.code, Errc::Invalid);
  EXPECT_NE(error.message.find("newer"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("version " + std::to_string(future_version)), std::string::npos)
      << error.message;
  EXPECT_NE(error.message.find(db_file().string()), std::string::npos) << error.message;
  EXPECT_EQ(user_version(), future_version) << "a refused database is left as it was";
}

TEST_F(StoreSchemaTest, CorruptFileIsAnErrorNotACrash) {
  std::ofstream(db_file()) << std::string(4096, 'x');
  Error error = open_error();
  EXPECT_EQ(error.code, Errc::Corrupt);
  EXPECT_NE(error.message.find("not a database"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(db_file().string()), std::string::npos) << error.message;
}

TEST_F(StoreSchemaTest, DirectoryThatCannotBeCreatedIsAnError) {
  std::ofstream(dir_.path() / "a-file") << "x";
  auto opened = HistoryStore::open({.dir = dir_.path() / "a-file" / "history"});
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("cannot create directory"), std::string::npos)
      << opened.error().message;
}

TEST_F(StoreSchemaTest, UnwritableDirectoryIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes to read-only directories";
  fs::permissions(dir_.path(), fs::perms::owner_read | fs::perms::owner_exec);
  Error error = open_error();
  EXPECT_NE(error.message.find("history store: "), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("Permission denied"), std::string::npos) << error.message;
}

TEST_F(StoreSchemaTest, MissingDirectoryOptionIsAnError) {
  auto opened = HistoryStore::open({});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::Invalid);
  EXPECT_EQ(opened.error().message, "history store: no directory given");
}

}  // namespace
}  // namespace parley::store
