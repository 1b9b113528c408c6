#include "store/wal_checkpointer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace parley::store {
namespace {

// Once the writer has committed nothing for this long, a checkpoint copies whatever is left, so
// an idle store's WAL does not keep old frames that every reader has to look through.
constexpr auto kIdleCheckpoint = std::chrono::seconds(1);
// Passes that may run before holding the writer: each copies what the previous one left, so
// the hold covers only the last few frames.
constexpr int kCatchUpPasses = 4;

int on_wal_commit(void* checkpointer, sqlite3*, const char*, int frames) {
  static_cast<WalCheckpointer*>(checkpointer)->wal_committed(frames);
  return SQLITE_OK;
}

}  // namespace

void WriterGate::enter() {
  std::unique_lock lock(mutex_);
  if (held_) {
    const Clock::time_point start = Clock::now();
    changed_.wait_until(lock, held_since_ + kMaxHold, [this] { return !held_; });
    StoreCounters::add(
        counters_.writer_held_us,
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
  }
  in_transaction_ = true;
}

void WriterGate::leave() {
  {
    std::lock_guard lock(mutex_);
    in_transaction_ = false;
  }
  changed_.notify_all();
}

bool WriterGate::hold(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  held_ = true;
  held_since_ = Clock::now();
  if (changed_.wait_for(lock, timeout, [this] { return !in_transaction_; })) return true;
  held_ = false;
  lock.unlock();
  changed_.notify_all();
  return false;
}

void WriterGate::release() {
  {
    std::lock_guard lock(mutex_);
    held_ = false;
  }
  changed_.notify_all();
}

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::filesystem::path& file,
                                                                Limits limits, WriterGate& gate,
                                                                StoreHealth& health,
                                                                StoreCounters& counters) {
  Result<SqliteDatabase> db =
      SqliteDatabase::open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!db) return std::move(db).error();
  std::unique_ptr<WalCheckpointer> checkpointer(
      new WalCheckpointer(std::move(db).value(), gate, health, counters));
  // This connection only checkpoints; it never closes last (the writer does), so it never
  // checkpoints on close either. A connection learns that the file is in WAL mode from its
  // first read; until then a checkpoint is a no-op that reports -1 frames.
  Result<std::string> journal_mode = checkpointer->db_.query_text("PRAGMA journal_mode");
  if (!journal_mode) return with_context("cannot read the journal mode", journal_mode.error());
  if (*journal_mode != "wal") {
    return Error(Errc::Internal,
                 "the checkpointer's connection is not in WAL mode (" + *journal_mode + ")");
  }
  Result<int64_t> page_size = checkpointer->db_.query_int64("PRAGMA page_size");
  if (!page_size) return with_context("cannot read the page size", page_size.error());
  checkpointer->page_size_ = static_cast<uint64_t>(std::max<int64_t>(512, *page_size));
  checkpointer->checkpoint_frames_ =
      std::max<uint64_t>(1, limits.checkpoint_bytes / checkpointer->page_size_);
  checkpointer->restart_frames_ = std::max<uint64_t>(
      checkpointer->checkpoint_frames_, limits.wal_restart_bytes / checkpointer->page_size_);
  checkpointer->thread_ = std::thread(&WalCheckpointer::run, checkpointer.get());
  // Named for top -H, perf and gdb.
  pthread_setname_np(checkpointer->thread_.native_handle(), "store-ckpt");
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(SqliteDatabase db, WriterGate& gate, StoreHealth& health,
                                 StoreCounters& counters)
    : db_(std::move(db)), gate_(gate), health_(health), counters_(counters) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::attach_to_writer(SqliteDatabase& db) {
  sqlite3_wal_hook(db.handle(), &on_wal_commit, this);
}

void WalCheckpointer::wal_committed(int frames) {
  const auto now = static_cast<uint64_t>(std::max(frames, 0));
  wal_frames_.store(now, std::memory_order_relaxed);
  StoreCounters::set(counters_.wal_bytes, now * page_size_);
  if (frames_behind() < checkpoint_frames_ || due_.load(std::memory_order_relaxed)) return;
  if (due_.exchange(true)) return;
  // Under the mutex, so the checkpointer cannot miss it between its check and its wait.
  std::lock_guard lock(mutex_);
  wake_.notify_one();
}

uint64_t WalCheckpointer::frames_behind() const {
  const uint64_t frames = wal_frames_.load(std::memory_order_relaxed);
  const uint64_t copied = copied_frames_.load(std::memory_order_relaxed);
  // Fewer frames than were copied: the WAL restarted since, and all of it is new.
  return frames >= copied ? frames - copied : frames;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, kIdleCheckpoint, [this] { return stop_ || due_.load(); });
    if (stop_) break;
    const bool due = due_.exchange(false);
    // Without a trigger: only once the writer has been quiet for a whole wait.
    const uint64_t frames = wal_frames_.load(std::memory_order_relaxed);
    const bool quiet = frames == frames_at_last_wake_;
    frames_at_last_wake_ = frames;
    if (!due && (!quiet || frames_behind() == 0)) continue;
    lock.unlock();
    if (checkpoint() && wal_frames_.load(std::memory_order_relaxed) >= restart_frames_) {
      restart_wal();
    }
    lock.lock();
  }
}

bool WalCheckpointer::checkpoint() {
  int log_frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                           &log_frames, &copied);
  if (rc == SQLITE_BUSY) return false;  // another checkpoint is running: try again later
  if (rc == SQLITE_OK && log_frames < 0) {
    health_.failed(StoreHealth::Source::kCheckpoint,
                   Error(Errc::Internal, "history store: WAL checkpoint found no WAL"));
    return false;
  }
  if (rc != SQLITE_OK) {
    StoreCounters::add(counters_.checkpoint_errors, 1);
    health_.failed(StoreHealth::Source::kCheckpoint,
                   db_.last_error("history store: WAL checkpoint failed"));
    return false;
  }
  StoreCounters::add(counters_.checkpoints, 1);
  health_.succeeded(StoreHealth::Source::kCheckpoint);
  copied_frames_.store(static_cast<uint64_t>(std::max(copied, 0)), std::memory_order_relaxed);
  return true;
}

void WalCheckpointer::restart_wal() {
  const uint64_t few = checkpoint_frames_ / 4;
  for (int pass = 0; pass < kCatchUpPasses && frames_behind() > few; ++pass) {
    if (!checkpoint()) return;
  }
  // Still far behind (the writer produces WAL faster than a pass copies it): holding now would
  // stall the writer for a long copy. Try again after the next checkpoint, unless the WAL has
  // grown to twice its limit.
  if (frames_behind() > few && wal_frames_.load(std::memory_order_relaxed) < 2 * restart_frames_) {
    return;
  }
  if (!gate_.hold(WriterGate::kMaxHold)) return;
  StoreCounters::add(counters_.writer_holds, 1);
  checkpoint();
  gate_.release();
}

}  // namespace parley::store
