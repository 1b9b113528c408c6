// Persistent chat history in SQLite, shaped so that event loops never wait on disk.
//
// Threads: one writer thread owns a read-write connection and commits everything queued (up to
// max_batch appends) in ONE transaction (group commit): at high rates the cost of a commit is
// shared by the whole batch, and at low rates a message is committed as soon as it arrives.
// In between, a transaction starts at most every commit_interval while appends keep coming, so
// moderate rates also get batches of several messages instead of a commit per message.
// The writer takes rooms in turn (fair_queue.h): each batch holds at most one append of a room
// per turn of the rooms with appends waiting, and stops at max_batch appends or max_batch_bytes,
// so a room's burst delays another room's acks by about one batch, not by the whole burst.
// What waits for the writer is bounded in bytes, per room and overall (max_pending_room_bytes,
// max_pending_bytes; see "Errors").
// One reader thread owns a read-only connection and answers page queries one at a time, round-
// robin between rooms and, within a room, between the readers that asked (ReadTag::lane), so a
// flood of reads in one room, or by one connection, does not hold up the others'; a read whose
// reader is gone (ReadTag::cancelled) is dropped when its turn comes. WAL lets it read while
// the writer writes. One checkpointer thread owns a third connection and copies
// the WAL back into the database file (see "Checkpoints"). Callbacks run on the writer and
// reader threads: callers post the result back to their own loop, must not block in them, and
// must not call flush() from them.
//
// Durability ("acknowledged = durable"): an append's callback runs only after its transaction
// committed. In WAL mode a commit has written the transaction's pages into the -wal file through
// write(2) before COMMIT returns. With synchronous=NORMAL they may still sit in the kernel's page
// cache, which a killed process cannot lose: after SIGKILL (or a crash) the next open replays the
// WAL and every acknowledged message is there. Only an OS crash or power loss can drop the last
// transactions (the database stays consistent); sync_full=true adds an fsync of the WAL per
// commit, which survives that too, at the price of one fsync per batch. Nothing below (the
// checkpointer, retention, the cap) changes this: they work on committed data only.
//
// Checkpoints: SQLite would copy the WAL into the database inside whichever COMMIT passes 1000
// pages, making that batch wait for a copy and two fsyncs. Here the writer never checkpoints:
// the checkpointer runs PASSIVE checkpoints (which take no lock a commit needs) every
// checkpoint_bytes of WAL, and when the WAL passes wal_restart_bytes it holds the writer at a
// batch boundary for one short last pass so the WAL can start over (wal_checkpointer.h). So the
// -wal file stays near wal_restart_bytes, and a commit waits for its own write(2)s only, except
// once per wal_restart_bytes of WAL for that pass (about one fsync).
//
// Ids: per room 1, 2, 3 ... with no gaps, assigned by the writer inside the transaction from a
// per-room "last id" kept in memory and in the rooms table (committed with the messages), so ids
// continue after a restart even when retention deleted every message of a room.
// If a transaction fails (disk full, lock held past busy_timeout) it is rolled back whole: every
// append in it reports the error and no id is used up, so the client's resend fills the slot.
//
// Retention and the cap delete the oldest messages of a room (never from its middle), on the
// writer between batches, in bounded steps with transactions of their own, so acknowledgements
// never wait for more than one step (history_trimmer.h). Retention: retain_per_room,
// retain_age. The cap: when the database's pages in use pass max_bytes, the largest rooms lose
// their oldest messages until it is back under 90% of it; freed pages are reused, so the file
// stops growing at about max_bytes (plus the WAL).
//
// Errors: every failure is a parley::Error whose kind says what a caller can do —
//   Overloaded   the append queue is full (max_pending_appends), or the append would take the
//                bytes in flight past max_pending_room_bytes for its room or max_pending_bytes
//                overall: the disk cannot keep up (detail() says which: OverloadKind);
//   Unavailable  an I/O error, a full disk, the database locked past busy_timeout, or
//                history.sqlite3 / its -wal removed or replaced since open;
//   Closed       the store is shutting down;
//   Corrupt      the database file is damaged (or is not a database);
//   Invalid      bad options, or a database written by a newer Parley.
// Each one is logged (spdlog, repeats throttled) and counted in stats().
//
// Health: health() turns bad while writes or reads fail, a checkpoint fails, or the database
// file (or its -wal) was removed or replaced behind our back: the writer compares their inodes
// with those it opened every file_check_interval and after every failure, and while they differ
// it refuses appends (Unavailable) rather than acknowledge into a file the next start will not
// see. It turns good again when a write succeeds on the right file (and reads succeed).
//
// Files: history.sqlite3, its -wal and -shm, and history.lock are created with mode 0600
// whatever the umask (store_files.h).
//
// One process at a time: open() takes an exclusive lock on dir/"history.lock", because two
// writers with separate id caches would hand out the same ids.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/append_request.h"
#include "store/stored_message.h"

namespace parley::store {

class DirectoryLock;
class HistoryReader;
class HistoryWriter;
struct StoreCounters;
class StoreHealth;
class WalCheckpointer;
class WriterGate;

// Who a read is for. Reads are answered round-robin between rooms, and within a room between
// lanes (the chat gives each connection its own); a read whose `cancelled` is set by the time
// its turn comes is answered Closed without touching the database.
struct ReadTag {
  uint64_t lane = 0;
  std::shared_ptr<const std::atomic<bool>> cancelled{};
};

class HistoryStore {
 public:
  struct Options {
    std::filesystem::path dir;  // database file: dir/"history.sqlite3"; created if missing
    std::size_t retain_per_room = 10000;  // newest messages kept per room; 0 = unlimited
    // Messages older than this are deleted; 0 = forever. Retention only removes a room's oldest
    // messages (a prefix in id order), so an old ts_ms behind a younger one waits for it.
    std::chrono::seconds retain_age{0};
    // Cap on the database's pages in use, in bytes; 0 = no limit. Past it the oldest messages
    // of the largest rooms are deleted until it is under 90% of this (see above).
    uint64_t max_bytes = 0;
    bool sync_full = false;  // synchronous=FULL (survives power loss) vs NORMAL (process crash)
    std::size_t max_batch = 1024;  // appends per transaction
    // While appends keep coming, a transaction starts at most this long after the previous one
    // started (unless max_batch are waiting): at moderate rates batches of several appends
    // instead of one or two, so fewer commits, less WAL and fewer WAL restarts, for at most
    // this much more ack latency. An append after a quiet spell commits at once. 0 = always
    // at once.
    std::chrono::microseconds commit_interval{1000};
    // How often retention runs. Between passes a room may exceed retain_per_room by what arrived
    // in the meantime. 0 = after every batch (tests).
    std::chrono::milliseconds retention_interval{1000};
    // Appends waiting for the writer. Past this the disk cannot keep up: append() refuses at
    // once (its callback runs on the calling thread with an Overloaded error) instead of growing
    // memory without bound. 0 = unbounded.
    std::size_t max_pending_appends = 100000;
    // Bytes of appends in flight (stored_bytes(), from append() until the callback ran), per
    // room and overall; past either append() refuses (Overloaded) at once. A room (the store)
    // with nothing in flight always takes one append, whatever its size. 0 = unbounded (the
    // server passes --store-pending-room-bytes and --store-pending-bytes: 1 MiB, 16 MiB).
    uint64_t max_pending_room_bytes = 0;
    uint64_t max_pending_bytes = 0;
    // A batch stops once its appends weigh this much (stored_bytes()), so that a room's large
    // messages hold the other rooms' acks up by one such batch at most. 0 = no limit.
    uint64_t max_batch_bytes = 16 << 10;
    // How long a transaction waits for a lock held by another connection (a backup, the sqlite3
    // shell) before its appends fail.
    std::chrono::milliseconds busy_timeout{5000};
    // WAL checkpoints (see "Checkpoints"): a PASSIVE one per this much WAL...
    uint64_t checkpoint_bytes = 4 << 20;
    // ... and past this the WAL is made to start over (and truncated back to this size). Each
    // restart holds the writer for about one fsync; with a few KiB of WAL per message (small
    // commits over many rooms) 128 MiB means one per ~20k messages. The -wal file may stay
    // this large.
    uint64_t wal_restart_bytes = 128 << 20;
    // How often the writer checks that its files are still the ones it opened.
    std::chrono::milliseconds file_check_interval{1000};
    // The rules of the room's log (issue 10), checked by the writer in the transaction that
    // stores a change: reactions per message (different emoji, and in all), and the code
    // points of a message a reply quotes.
    std::size_t max_reaction_emoji = 20;
    std::size_t max_reactions = 1000;
    std::size_t quote_chars = 100;
  };

  // Counters for /metrics. Sizes are as last measured by the writer (at most 10 ms old while
  // it writes); the rest count since open.
  struct Stats {
    uint64_t database_bytes = 0;     // pages x page size: the file once checkpointed
    uint64_t used_bytes = 0;         // of which in use (not on the free list): what max_bytes caps
    uint64_t wal_bytes = 0;          // pages in the WAL after the last commit x page size
    uint64_t appends_committed = 0;  // stored (duplicates not included)
    uint64_t appends_duplicate = 0;  // answered with the original's id
    uint64_t append_errors = 0;      // failed in a transaction, or refused for a bad file
    uint64_t appends_refused = 0;    // Overloaded or Closed before reaching the writer
    uint64_t appends_over_budget = 0;  // of which: over max_pending_(room_)bytes
    uint64_t transactions = 0;         // committed: batches and trimming steps
    uint64_t reads = 0;
    uint64_t read_errors = 0;
    uint64_t reads_cancelled = 0;  // dropped unread: their ReadTag was cancelled
    uint64_t deleted_by_retention = 0;
    uint64_t deleted_by_cap = 0;
    uint64_t checkpoints = 0;
    uint64_t checkpoint_errors = 0;
    uint64_t writer_holds = 0;     // times the checkpointer held the writer to restart the WAL
    uint64_t writer_held_us = 0;   // and how long the writer waited for it in all
    uint64_t pending_appends = 0;  // queued for the writer now
    uint64_t pending_bytes = 0;    // in flight to the writer now (what max_pending_bytes caps)
  };

  // Which budget refused an append (Error::detail of an Overloaded error).
  enum class OverloadKind : unsigned char { kQueueFull = 1, kRoomBytes = 2, kBytes = 3 };

  using ReadTag = store::ReadTag;

  using AppendDone = std::function<void(Result<AppendResult>)>;
  using PageDone = std::function<void(Result<HistoryPage>)>;

  // Creates the directory, opens or creates the database, applies schema migrations and starts
  // the threads. Errors: Invalid (options, a newer schema), Io (the directory cannot be
  // created), Unavailable (the directory is in use by another store, SQLite cannot open or write
  // the file), Corrupt (not a database). Nothing throws; the caller logs the error.
  static Result<std::unique_ptr<HistoryStore>> open(const Options& options);

  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;
  // Answers queued reads, commits every queued append (callbacks included), then closes.
  ~HistoryStore();

  // Thread-safe. `done` runs on the writer thread once the message is committed (or failed),
  // or at once on the calling thread when the append is refused (Overloaded, Closed).
  void append(AppendRequest request, AppendDone done);

  // Thread-safe. `done` runs on the reader thread. All return at most `limit` rows in ascending
  // id order, and `truncated` = the range asked for holds more than was returned. A room's rows
  // are the entries of its log (append_request.h); messages come in their current state.
  // The newest `limit` messages of the room; truncated: older ones exist.
  void recent(std::string room, std::size_t limit, PageDone done, ReadTag tag = {});
  // The newest `limit` messages with id < before_id (scrolling up); truncated: older ones exist.
  void before(std::string room, uint64_t before_id, std::size_t limit, PageDone done,
              ReadTag tag = {});
  // What a reconnecting client missed, paging forward: the OLDEST `limit` entries (messages and
  // changes) with id > after_id; truncated: more are missing, continue with after(last id).
  void after(std::string room, uint64_t after_id, std::size_t limit, PageDone done,
             ReadTag tag = {});
  // The OLDEST `limit` messages (no changes) with id > after_id.
  void messages_after(std::string room, uint64_t after_id, std::size_t limit, PageDone done,
                      ReadTag tag = {});
  // Messages whose current text contains `query` (1-100 code points), newest first, ids below
  // `before` (0: all). 3 or more code points: the FTS5 trigram index; fewer: a scan of at most
  // kShortQueryScan messages, which `next` continues (store/message_log_reader.h).
  using SearchDone = std::function<void(Result<SearchPage>)>;
  void search(std::string room, std::string query, uint64_t before, std::size_t limit,
              SearchDone done, ReadTag tag = {});

  // The last id handed out in every room, sorted by room; for start-up.
  std::vector<std::pair<std::string, uint64_t>> last_ids() const;

  // Blocks until every append queued before the call is committed and its callback has run
  // (and the retention or cap step due right after it).
  void flush();

  // Thread-safe and cheap (no lock while healthy): ok, or why the store is failing now (see
  // "Health"). For GET /healthz.
  Status health() const;
  // Thread-safe: a snapshot of the counters.
  Stats stats() const;

 private:
  HistoryStore();

  // Destruction order is spelled out in ~HistoryStore: the reader, then the writer's thread,
  // the checkpointer, and the writer's connection last (closing it checkpoints and removes the
  // WAL), then the directory lock.
  std::unique_ptr<DirectoryLock> lock_;
  std::unique_ptr<StoreHealth> health_;
  std::unique_ptr<StoreCounters> counters_;
  std::unique_ptr<WriterGate> gate_;
  std::unique_ptr<HistoryWriter> writer_;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<HistoryReader> reader_;
};

}  // namespace parley::store
