// Persistent chat history in SQLite, shaped so that event loops never wait on disk.
//
// Threads: one writer thread owns a read-write connection and commits everything queued (up to
// max_batch appends) in ONE transaction (group commit): at high rates the cost of a commit is
// shared by the whole batch, and at low rates a message is committed as soon as it arrives.
// One reader thread owns a read-only connection and answers page queries in FIFO order; WAL lets
// it read while the writer writes. Callbacks run on these threads: callers post the result back
// to their own loop, must not block in them, and must not call flush() from them.
//
// Durability ("acknowledged = durable"): an append's callback runs only after its transaction
// committed. In WAL mode a commit has written the transaction's pages into the -wal file through
// write(2) before COMMIT returns. With synchronous=NORMAL they may still sit in the kernel's page
// cache, which a killed process cannot lose: after SIGKILL (or a crash) the next open replays the
// WAL and every acknowledged message is there. Only an OS crash or power loss can drop the last
// transactions (the database stays consistent); sync_full=true adds an fsync of the WAL per
// commit, which survives that too, at the price of one fsync per batch.
//
// Ids: per room 1, 2, 3 ... with no gaps, assigned by the writer inside the transaction from a
// per-room "last id" kept in memory and in the rooms table (committed with the messages), so ids
// continue after a restart even when retention deleted every message of a room. Retention runs
// on the writer every retention_interval, inside a batch's transaction, not per insert.
// If a transaction fails (disk full, lock held past busy_timeout) it is rolled back whole: every
// append in it reports the error and no id is used up, so the client's resend fills the slot.
//
// One process at a time: open() takes an exclusive lock on dir/"history.lock", because two
// writers with separate id caches would hand out the same ids.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "store/append_request.h"
#include "store/stored_message.h"

namespace parley::store {

class DirectoryLock;
class HistoryReader;
class HistoryWriter;

class HistoryStore {
 public:
  struct Options {
    std::filesystem::path dir;  // database file: dir/"history.sqlite3"; created if missing
    std::size_t retain_per_room = 10000;  // newest messages kept per room; 0 = unlimited
    // Messages older than this are deleted; 0 = forever. Retention only removes a room's oldest
    // messages (a prefix in id order), so an old ts_ms behind a younger one waits for it.
    std::chrono::seconds retain_age{0};
    bool sync_full = false;  // synchronous=FULL (survives power loss) vs NORMAL (process crash)
    std::size_t max_batch = 1024;  // appends per transaction
    // How often retention runs. Between passes a room may exceed retain_per_room by what arrived
    // in the meantime. 0 = in every batch (tests).
    std::chrono::milliseconds retention_interval{1000};
    // Appends waiting for the writer. Past this the disk cannot keep up: append() refuses at
    // once (its callback runs on the calling thread with ok=false) instead of growing memory
    // without bound. 0 = unbounded.
    std::size_t max_pending_appends = 100000;
    // How long a transaction waits for a lock held by another connection (a backup, the sqlite3
    // shell) before its appends fail.
    std::chrono::milliseconds busy_timeout{5000};
  };

  using AppendDone = std::function<void(const AppendResult&)>;
  using PageDone = std::function<void(HistoryPage)>;

  // Creates the directory, opens or creates the database, applies schema migrations and starts
  // the threads. Errors (unwritable directory, corrupt file, newer schema, directory in use)
  // come back as a message; nothing throws.
  static std::variant<std::unique_ptr<HistoryStore>, std::string> open(const Options& options);

  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;
  // Answers queued reads, commits every queued append (callbacks included), then closes.
  ~HistoryStore();

  // Thread-safe. `done` runs on the writer thread once the message is committed (or failed).
  void append(AppendRequest request, AppendDone done);

  // Thread-safe. `done` runs on the reader thread. All three return at most `limit` messages in
  // ascending id order, and `truncated` = the range asked for holds more than was returned.
  // The newest `limit` messages of the room; truncated: older ones exist.
  void recent(std::string room, std::size_t limit, PageDone done);
  // The newest `limit` messages with id < before_id (scrolling up); truncated: older ones exist.
  void before(std::string room, uint64_t before_id, std::size_t limit, PageDone done);
  // What a reconnecting client missed, paging forward: the OLDEST `limit` messages with
  // id > after_id; truncated: more than `limit` are missing, continue with after(last id).
  void after(std::string room, uint64_t after_id, std::size_t limit, PageDone done);

  // The last id handed out in every room, sorted by room; for start-up.
  std::vector<std::pair<std::string, uint64_t>> last_ids() const;

  // Blocks until every append queued before the call is committed and its callback has run.
  void flush();

 private:
  HistoryStore(std::unique_ptr<DirectoryLock> lock, std::unique_ptr<HistoryWriter> writer,
               std::unique_ptr<HistoryReader> reader);

  // Destroyed bottom-up: reader, then writer (its connection closes last and checkpoints the
  // WAL), then the directory lock.
  std::unique_ptr<DirectoryLock> lock_;
  std::unique_ptr<HistoryWriter> writer_;
  std::unique_ptr<HistoryReader> reader_;
};

}  // namespace parley::store
