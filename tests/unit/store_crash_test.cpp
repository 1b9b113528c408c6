// "Acknowledged = durable": a child process appends as fast as it can and reports every
// acknowledged id through a pipe; the parent SIGKILLs it mid-stream, reopens the database and
// checks that every acknowledged message is there exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <semaphore>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/append_request.h"
#include "store/history_store.h"
#include "store/sqlite_database.h"
#include "store_test_support.h"

namespace parley::store {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using test_support::TempDir;

// What the child writes to the pipe per acknowledged append. 16 bytes < PIPE_BUF, so each
// write(2) lands whole even though it comes from the store's writer thread.
struct AckRecord {
  uint64_t seq;
  uint64_t id;
};

constexpr char kRoom[] = "crash";

std::string text_for(uint64_t seq) {
  return "message " + std::to_string(seq);
}
std::string client_id_for(uint64_t seq) {
  return "c" + std::to_string(seq);
}

// Runs in the forked child; never returns.
[[noreturn]] void append_until_killed(const fs::path& dir, uint64_t first_seq, int ack_fd) {
  auto opened = HistoryStore::open({.dir = dir, .retain_per_room = 0});
  if (!opened) _exit(3);
  HistoryStore& store = **opened;
  // Bounded in flight, so the child exercises group commit without tripping max_pending.
  std::counting_semaphore<4096> in_flight(4096);
  for (uint64_t seq = first_seq;; ++seq) {
    in_flight.acquire();
    store.append({.room = kRoom,
                  .user_id = "u",
                  .sender_name = "crash test",
                  .client_id = client_id_for(seq),
                  .text = text_for(seq)},
                 [&, seq](const Result<AppendResult>& result) {
                   if (!result || result->duplicate) _exit(4);
                   AckRecord record{seq, result->id};
                   if (::write(ack_fd, &record, sizeof record) != sizeof record) _exit(5);
                   in_flight.release();
                 });
  }
}

// Kills the child if the test bails out early.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Reads whole records from `fd` until `wanted` arrived (or EOF when wanted == 0), bounded by a
// deadline. Returns false on timeout.
bool read_acks(int fd, std::size_t wanted, std::map<uint64_t, uint64_t>& acks) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  static std::string partial;
  char buffer[4096];
  std::size_t got = 0;
  while (wanted == 0 || got < wanted) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return wanted == 0;  // EOF: the child is gone
    partial.append(buffer, static_cast<std::size_t>(n));
    std::size_t whole = partial.size() / sizeof(AckRecord) * sizeof(AckRecord);
    for (std::size_t off = 0; off < whole; off += sizeof(AckRecord)) {
      AckRecord record;
      std::memcpy(&record, partial.data() + off, sizeof record);
      EXPECT_TRUE(acks.emplace(record.seq, record.id).second) << "seq acked twice";
      ++got;
    }
    partial.erase(0, whole);
  }
  return true;
}

TEST(StoreCrash, EveryAcknowledgedAppendSurvivesSigkill) {
  TempDir dir;
  std::map<uint64_t, uint64_t> acks;  // seq -> id
  constexpr int kRounds = 3;
  constexpr std::size_t kAcksBeforeKill = 1500;

  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const uint64_t first_seq = uint64_t(round) * 1'000'000;
    // Fork while this process has no store threads: the child starts its own.
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Never outlive a test runner that died before it could kill us.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(fds[0]);
      append_until_killed(dir.path(), first_seq, fds[1]);
    }
    ChildGuard guard{pid};
    ::close(fds[1]);

    ASSERT_TRUE(read_acks(fds[0], kAcksBeforeKill, acks)) << "child stalled in round " << round;
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    guard.pid = 0;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited on its own with status " << status;
    // Acks written before the kill are still in the pipe.
    ASSERT_TRUE(read_acks(fds[0], 0, acks));
    ::close(fds[0]);
  }

  auto opened = HistoryStore::open({.dir = dir.path(), .retain_per_room = 0});
  ASSERT_TRUE(opened) << opened.error().message;
  HistoryStore& store = **opened;
  std::promise<Result<HistoryPage>> read;
  store.after(kRoom, 0, 100'000'000,
              [&](Result<HistoryPage> page) { read.set_value(std::move(page)); });
  auto future = read.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  Result<HistoryPage> read_page = future.get();
  ASSERT_TRUE(read_page) << read_page.error().message;
  const HistoryPage& page = *read_page;

  std::map<uint64_t, const StoredMessage*> by_id;
  std::set<std::string> client_ids;
  for (std::size_t i = 0; i < page.messages.size(); ++i) {
    const StoredMessage& m = page.messages[i];
    EXPECT_EQ(m.id, i + 1) << "ids are gap-free across crashes";
    EXPECT_TRUE(client_ids.insert(m.client_id).second) << "stored twice: " << m.client_id;
    by_id[m.id] = &m;
  }
  ASSERT_GE(acks.size(), kRounds * kAcksBeforeKill);
  for (const auto& [seq, id] : acks) {
    auto it = by_id.find(id);
    ASSERT_NE(it, by_id.end()) << "acknowledged id " << id << " (seq " << seq << ") lost";
    EXPECT_EQ(it->second->text, text_for(seq));
    EXPECT_EQ(it->second->client_id, client_id_for(seq));
  }
}

// The rooms table is written lazily (room_ledger.h, "Persistence"): after a crash the next open
// counts what was appended since each room's row was written, so ids go on and sizes agree.
TEST(StoreCrash, RoomsCatchUpWithAppendsTheirRowsMissed) {
  TempDir dir;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto opened = HistoryStore::open({.dir = dir.path(), .retain_per_room = 0});
    if (!opened) _exit(3);
    for (int i = 0; i < 300; ++i) {
      (*opened)->append({.room = i % 3 == 0 ? "a" : "b", .user_id = "u", .text = "hello"}, nullptr);
    }
    (*opened)->flush();
    _exit(0);  // no destructor: as if killed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  {
    auto opened = HistoryStore::open({.dir = dir.path(), .retain_per_room = 0});
    ASSERT_TRUE(opened) << opened.error().message;
    using LastIds = std::vector<std::pair<std::string, uint64_t>>;
    EXPECT_EQ((*opened)->last_ids(), (LastIds{{"a", 100}, {"b", 200}}));
    std::promise<uint64_t> id;
    (*opened)->append({.room = "b", .user_id = "u", .text = "after"},
                      [&](const Result<AppendResult>& r) { id.set_value(r ? r->id : 0); });
    EXPECT_EQ(id.get_future().get(), 201u);
  }  // closing writes every row
  auto db = SqliteDatabase::open(dir.path() / "history.sqlite3", SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db);
  auto b_count = db->query_int64("SELECT messages FROM rooms WHERE room = 'b'");
  ASSERT_TRUE(b_count) << b_count.error().message;
  EXPECT_EQ(*b_count, 201);
  auto b_bytes = db->query_int64("SELECT bytes FROM rooms WHERE room = 'b'");
  ASSERT_TRUE(b_bytes);
  EXPECT_EQ(
      *b_bytes,
      200 * static_cast<int64_t>(stored_bytes({.room = "b", .user_id = "u", .text = "hello"})) +
          static_cast<int64_t>(stored_bytes({.room = "b", .user_id = "u", .text = "after"})));
}

}  // namespace
}  // namespace parley::store
