// How a running store is doing, shared by its threads (writer, reader, checkpointer) and read
// by anyone: the health that every failure and recovery updates, and the counters behind
// HistoryStore::stats().
//
// Every store failure passes through StoreHealth, which logs it (spdlog): the first failure of
// a kind at once, repeats of it at most once per kLogEvery with how many there were, and the
// recovery once. So a full disk at 100k appends/s writes a line per 10 s, not per append.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "base/result.h"

namespace parley::store {

// Monotonic counters and the last measured sizes; relaxed atomics, written by one thread each.
struct StoreCounters {
  std::atomic<uint64_t> appends_committed{0};
  std::atomic<uint64_t> appends_duplicate{0};
  std::atomic<uint64_t> append_errors{0};
  std::atomic<uint64_t> appends_refused{0};
  std::atomic<uint64_t> appends_over_budget{0};
  std::atomic<uint64_t> transactions{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> read_errors{0};
  std::atomic<uint64_t> reads_cancelled{0};
  std::atomic<uint64_t> deleted_by_retention{0};
  std::atomic<uint64_t> deleted_by_cap{0};
  std::atomic<uint64_t> checkpoints{0};
  std::atomic<uint64_t> checkpoint_errors{0};
  std::atomic<uint64_t> writer_holds{0};
  std::atomic<uint64_t> writer_held_us{0};
  std::atomic<uint64_t> database_bytes{0};
  std::atomic<uint64_t> used_bytes{0};
  std::atomic<uint64_t> wal_bytes{0};

  static void add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  static void set(std::atomic<uint64_t>& gauge, uint64_t value) {
    gauge.store(value, std::memory_order_relaxed);
  }
  static uint64_t get(const std::atomic<uint64_t>& value) {
    return value.load(std::memory_order_relaxed);
  }
};

class StoreHealth {
 public:
  // What failed. status() reports the first failing one in this order: a file removed or
  // replaced explains any write failure that follows it.
  enum class Source : std::size_t { kFile, kWrite, kRead, kCheckpoint };
  static constexpr std::chrono::seconds kLogEvery{10};

  // `source` failed: logged, and status() reports it until succeeded(source). Messages start
  // with "history store: ", as the errors handed to callers do.
  void failed(Source source, const Error& error);
  // `source` works (again). Cheap when it was not failing: one relaxed load, no lock.
  void succeeded(Source source);
  // A request the store turned away (queue full, store closed): logged like a failure, but the
  // store itself is fine, so status() does not change.
  void refused(const Error& error);

  // Ok, or the first failing source's last error. Thread-safe; no lock while all is well.
  Status status() const;

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kSources = 4;
  struct Log {
    Clock::time_point last{};
    uint64_t suppressed = 0;  // failures since the last line
  };
  // Logs `error` unless `log` wrote a line less than kLogEvery ago. Under mutex_.
  static void log_failure(Log& log, const Error& error, bool first);

  mutable std::mutex mutex_;
  std::array<std::atomic<bool>, kSources> failing_{};
  std::array<Status, kSources> last_error_{};  // under mutex_
  std::array<Log, kSources> logs_{};           // under mutex_
  std::atomic<bool> any_failing_{false};
  Log refused_log_{};  // under mutex_
};

}  // namespace parley::store
