// Opening: schema versions and migrations, and the errors a bad directory or file gives.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "store/history_store.h"
#include "store/schema_migrations.h"
#include "store/sqlite_database.h"

namespace parley::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "parley-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class StoreSchemaTest : public ::testing::Test {
 protected:
  fs::path db_file() const { return dir_.path() / "history.sqlite3"; }

  // A connection of our own to look at (or tamper with) the file while no store has it open.
  SqliteDatabase raw_db() const {
    auto opened = SqliteDatabase::open(db_file(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_TRUE(std::holds_alternative<SqliteDatabase>(opened));
    return std::move(std::get<SqliteDatabase>(opened));
  }
  int64_t user_version() const {
    SqliteDatabase db = raw_db();
    int64_t version = -1;
    EXPECT_EQ(db.query("PRAGMA user_version", version), std::nullopt);
    return version;
  }
  std::string open_error() const {
    auto opened = HistoryStore::open({.dir = dir_.path()});
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    return "";
  }
  static bool store_works(HistoryStore& store) {
    std::promise<AppendResult> done;
    store.append({.room = "r", .user_id = "u", .text = "hello"},
                 [&](const AppendResult& r) { done.set_value(r); });
    store.flush();
    return done.get_future().get().ok;
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
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<HistoryStore>>(opened))
        << std::get<std::string>(opened);
  }
  EXPECT_EQ(user_version(), current_schema_version());
}

TEST_F(StoreSchemaTest, MigratesAnExistingVersionZeroDatabase) {
  {
    // A valid SQLite file that never saw our schema (user_version 0).
    SqliteDatabase db = raw_db();
    ASSERT_EQ(db.exec("CREATE TABLE scratch (x); DROP TABLE scratch;"), std::nullopt);
  }
  ASSERT_EQ(user_version(), 0);
  auto opened = HistoryStore::open({.dir = dir_.path()});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<HistoryStore>>(opened))
      << std::get<std::string>(opened);
  EXPECT_TRUE(store_works(*std::get<std::unique_ptr<HistoryStore>>(opened)));
  opened = std::string();  // close
  EXPECT_EQ(user_version(), current_schema_version());
}

TEST_F(StoreSchemaTest, ReopensAnUpToDateDatabaseUnchanged) {
  for (int round = 0; round < 2; ++round) {
    auto opened = HistoryStore::open({.dir = dir_.path()});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<HistoryStore>>(opened))
        << std::get<std::string>(opened);
    auto& store = *std::get<std::unique_ptr<HistoryStore>>(opened);
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
    ASSERT_EQ(db.exec(sql.c_str()), std::nullopt);
  }
  std::string error = open_error();
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_NE(error.find("version " + std::to_string(future_version)), std::string::npos) << error;
  EXPECT_NE(error.find(db_file().string()), std::string::npos) << error;
  EXPECT_EQ(user_version(), future_version) << "a refused database is left as it was";
}

TEST_F(StoreSchemaTest, CorruptFileIsAnErrorNotACrash) {
  std::ofstream(db_file()) << std::string(4096, 'x');
  std::string error = open_error();
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
  EXPECT_NE(error.find(db_file().string()), std::string::npos) << error;
}

TEST_F(StoreSchemaTest, DirectoryThatCannotBeCreatedIsAnError) {
  std::ofstream(dir_.path() / "a-file") << "x";
  auto opened = HistoryStore::open({.dir = dir_.path() / "a-file" / "history"});
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  EXPECT_NE(std::get<std::string>(opened).find("cannot create directory"), std::string::npos)
      << std::get<std::string>(opened);
}

TEST_F(StoreSchemaTest, UnwritableDirectoryIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes to read-only directories";
  fs::permissions(dir_.path(), fs::perms::owner_read | fs::perms::owner_exec);
  std::string error = open_error();
  EXPECT_NE(error.find("history store: "), std::string::npos) << error;
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
}

TEST_F(StoreSchemaTest, MissingDirectoryOptionIsAnError) {
  auto opened = HistoryStore::open({});
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  EXPECT_EQ(std::get<std::string>(opened), "history store: no directory given");
}

}  // namespace
}  // namespace parley::store
