// Keeps the WAL short without ever making a commit wait for a checkpoint.
//
// Why: in WAL mode a commit appends the transaction's pages to history.sqlite3-wal; a checkpoint
// copies them back into the database file and fsyncs it, after which the WAL can start over.
// By default SQLite runs that checkpoint inside whichever COMMIT pushes the WAL past 1000
// pages, so one append in a few hundred waited for a copy and two fsyncs (tens of ms), and the
// writer could not take more appends meanwhile. Here the writer's connection has no automatic
// checkpoint; this thread, on a connection of its own, does them instead:
//
// - PASSIVE checkpoints whenever checkpoint_bytes of WAL have accumulated since the last one
//   (and once the writer has been quiet for a second). PASSIVE takes no lock the writer needs:
//   it copies what every reader is done with while commits go on appending.
// - The WAL starts over (from its first frame, and is truncated to wal_restart_bytes) when a
//   transaction begins with every frame already copied. Under steady load that moment may not
//   come by itself: commits keep adding frames while the checkpoint copies. When the WAL holds
//   more than wal_restart_bytes, the checkpointer catches up (PASSIVE) and then asks the writer
//   to hold at its next transaction boundary (WriterGate) for one last PASSIVE pass over the
//   few frames added meanwhile; the writer's next transaction then restarts the WAL. SQLite's
//   own RESTART/TRUNCATE modes would do the same by taking the writer's lock, and the writer
//   would find out through its busy handler, which sleeps in steps of milliseconds. The hold
//   is bounded (kMaxHold): the writer then goes on, and the restart waits for the next chance.
//   What a restart costs the writer is that last pass, mostly its fsyncs of the WAL and the
//   database file, and then the fsync of the new WAL header that SQLite does in the first
//   commit after a restart: 10-20 ms in all on the dev VM's virtual disk (a bare fdatasync
//   takes 3-4 ms there), about a millisecond on an SSD. It comes once per wal_restart_bytes of
//   WAL (at 10k messages a second over 100 rooms, ~40 MB/s of WAL: every ~3 s with 128 MiB),
//   so a larger wal_restart_bytes trades disk for fewer of them. stats() counts holds and the
//   time the writer waited for them.
//
// Durability is unchanged: a commit is in the WAL (written, and fsynced with sync_full) before
// it is acknowledged, and a checkpoint fsyncs the WAL before copying and the database before the
// WAL may start over, as SQLite always does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "base/result.h"
#include "store/sqlite_database.h"
#include "store/store_health.h"

namespace parley::store {

// Lets the checkpointer hold the writer between two transactions. The writer calls enter()
// before BEGIN and leave() after COMMIT/ROLLBACK; both cost an uncontended mutex.
class WriterGate {
 public:
  static constexpr std::chrono::milliseconds kMaxHold{100};

  // Counts the time the writer waited (StoreCounters::writer_held_us).
  explicit WriterGate(StoreCounters& counters) : counters_(counters) {}

  // Writer: waits while the gate is held, at most kMaxHold from when the hold began.
  void enter();
  void leave();
  // Checkpointer: closes the gate and waits until the writer is outside a transaction. False
  // (and the gate open again) if it stays inside one past `timeout`.
  bool hold(std::chrono::milliseconds timeout);
  void release();

 private:
  using Clock = std::chrono::steady_clock;
  StoreCounters& counters_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool in_transaction_ = false;
  Clock::time_point held_since_{};
};

class WalCheckpointer {
 public:
  struct Limits {
    uint64_t checkpoint_bytes;   // PASSIVE once this much WAL has accumulated
    uint64_t wal_restart_bytes;  // past this, hold the writer for a moment so the WAL restarts
  };

  // Opens its own read-write connection to `file` (already in WAL mode) and starts the thread.
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::filesystem::path& file,
                                                        Limits limits, WriterGate& gate,
                                                        StoreHealth& health,
                                                        StoreCounters& counters);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  // Stops the thread (a checkpoint in progress finishes) and closes the connection.
  ~WalCheckpointer();

  // The writer's connection calls this after every commit (sqlite3_wal_hook): the WAL now holds
  // `frames` pages. Writer thread; an atomic store, and a notify only when a checkpoint is due.
  void wal_committed(int frames);
  // Installs wal_committed as `db`'s WAL hook, which also turns off its automatic checkpoints.
  void attach_to_writer(SqliteDatabase& db);

 private:
  using Clock = std::chrono::steady_clock;
  WalCheckpointer(SqliteDatabase db, WriterGate& gate, StoreHealth& health,
                  StoreCounters& counters);
  void run();
  // One PASSIVE checkpoint; false when it failed (logged, counted).
  bool checkpoint();
  // Catches up, then holds the writer for the last pass so the WAL can restart.
  void restart_wal();
  uint64_t frames_behind() const;

  SqliteDatabase db_;
  WriterGate& gate_;
  StoreHealth& health_;
  StoreCounters& counters_;
  uint64_t page_size_ = 4096;
  uint64_t checkpoint_frames_ = 0;
  uint64_t restart_frames_ = 0;

  std::atomic<uint64_t> wal_frames_{0};     // pages in the WAL after the last commit
  std::atomic<uint64_t> copied_frames_{0};  // of which the last checkpoint copied
  std::atomic<bool> due_{false};            // set by the writer when a checkpoint is due
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;                 // under mutex_
  uint64_t frames_at_last_wake_ = 0;  // checkpointer thread only
  std::thread thread_;
};

}  // namespace parley::store
