// History store: append throughput with group commit, the latency of one acknowledged append,
// and the latency of recent(room, 50). Measure a release build on a real disk: a tmpfs makes
// fsync free and the sync_full numbers meaningless. PARLEY_BENCH_DIR picks the directory
// (default: the system temp directory).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <semaphore>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/history_store.h"

namespace parley::store {
namespace {

namespace fs = std::filesystem;

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("PARLEY_BENCH_DIR");
    fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
    std::string pattern = (root / "parley-store-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// PARLEY_BENCH_WAL_RESTART (bytes) and PARLEY_BENCH_COMMIT_INTERVAL_US override those options.
std::unique_ptr<HistoryStore> open_store(benchmark::State& state, const fs::path& dir,
                                         bool sync_full, std::size_t retain_per_room = 10000) {
  HistoryStore::Options options{
      .dir = dir, .retain_per_room = retain_per_room, .sync_full = sync_full};
  if (const char* restart = std::getenv("PARLEY_BENCH_WAL_RESTART")) {
    options.wal_restart_bytes = std::stoull(restart);
  }
  if (const char* interval = std::getenv("PARLEY_BENCH_COMMIT_INTERVAL_US")) {
    options.commit_interval = std::chrono::microseconds(std::stoll(interval));
  }
  auto opened = HistoryStore::open(options);
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return nullptr;
  }
  return std::move(opened).value();
}

const std::array<std::string, 8> kRooms = {"lobby", "dev",   "ops",   "random",
                                           "music", "books", "games", "news"};
const std::string kText(64, 'x');
constexpr int kUsers = 100;

// The shape of client ids decides how many dedup-index pages a batch dirties.
enum ClientIds : int64_t {
  kNoClientIds = 0,  // plain-text clients: no dedup
  kTimeOrdered = 1,  // "<ms timestamp, hex>-<counter>": the format we recommend
  kRandom = 2,       // UUIDv4-like: the worst case, every insert at a random index spot
};

class MessageMaker {
 public:
  explicit MessageMaker(ClientIds ids) : ids_(ids) {}

  AppendRequest next() {
    const uint64_t n = seq_++;
    return {.room = kRooms[n % kRooms.size()],
            .user_id = "user-" + std::to_string(n % kUsers),
            .sender_name = "Bench User",
            .client_id = client_id(n),
            .text = kText};
  }

 private:
  std::string client_id(uint64_t n) {
    char buffer[40];
    switch (ids_) {
      case kNoClientIds:
        return {};
      case kTimeOrdered: {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        std::snprintf(buffer, sizeof buffer, "%011llx-%llu", static_cast<unsigned long long>(ms),
                      static_cast<unsigned long long>(n));
        return buffer;
      }
      case kRandom:
        std::snprintf(buffer, sizeof buffer, "%016llx%016llx",
                      static_cast<unsigned long long>(random_()),
                      static_cast<unsigned long long>(random_()));
        return buffer;
    }
    return {};
  }

  ClientIds ids_;
  uint64_t seq_ = 0;
  std::mt19937_64 random_{42};
};

// Appends queued back to back (as from many connections at once), then flush(): the writer
// groups them into transactions of up to max_batch. items/s = committed, acknowledged messages
// per second of wall-clock time.
void BM_AppendThroughput(benchmark::State& state) {
  BenchDir dir;
  auto store = open_store(state, dir.path(), state.range(0) != 0);
  if (!store) return;
  MessageMaker maker(static_cast<ClientIds>(state.range(1)));
  constexpr int kPerIteration = 10000;
  std::atomic<uint64_t> failed{0};
  for (auto _ : state) {
    for (int i = 0; i < kPerIteration; ++i) {
      store->append(maker.next(), [&failed](const Result<AppendResult>& result) {
        if (!result) failed.fetch_add(1, std::memory_order_relaxed);
      });
    }
    store->flush();
  }
  state.SetItemsProcessed(state.iterations() * kPerIteration);
  if (failed.load() != 0) state.SkipWithError("some appends failed");
}
// The CPU column is the whole process (producer + writer): on a loaded machine wall-clock rates
// drop, CPU per message does not.
BENCHMARK(BM_AppendThroughput)
    ->ArgNames({"sync_full", "client_ids"})
    ->Args({0, kTimeOrdered})
    ->Args({1, kTimeOrdered})
    ->Args({0, kNoClientIds})
    ->Args({0, kRandom})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One message at a time: from append() to its callback, i.e. one transaction per message.
// This is what a lone chatter on an idle server waits before the message is broadcast.
void BM_AppendAcknowledgeLatency(benchmark::State& state) {
  BenchDir dir;
  auto store = open_store(state, dir.path(), state.range(0) != 0);
  if (!store) return;
  MessageMaker maker(kTimeOrdered);
  for (auto _ : state) {
    std::promise<bool> acknowledged;
    store->append(maker.next(), [&acknowledged](const Result<AppendResult>& result) {
      acknowledged.set_value(result.has_value());
    });
    if (!acknowledged.get_future().get()) state.SkipWithError("append failed");
  }
}
BENCHMARK(BM_AppendAcknowledgeLatency)
    ->ArgName("sync_full")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// What the server does: 2 event loops append small messages to many rooms, each append
// acknowledged through its callback, and the writer forms batches from whatever has queued.
// Open loop at a fixed total rate (rate > 0; latency counted from each append's scheduled time,
// so a stalled producer is not hidden), or as fast as the store acknowledges (rate = 0; at most
// kInFlightPerLoop appends waiting per loop, as many connections waiting for acks would be).
// Counters: acknowledged appends per second, latency percentiles (from the scheduled time, and
// from the append() call), the writer thread's CPU per append, appends per commit, and the
// checkpointer's holds of the writer (count, total time).
constexpr int kServerLoops = 2;
constexpr int kInFlightPerLoop = 4096;

std::vector<AppendRequest> server_messages(int loop, std::size_t count, uint64_t rooms) {
  std::mt19937_64 random(static_cast<uint64_t>(loop) + 1);
  std::vector<AppendRequest> messages;
  messages.reserve(count);
  const int64_t start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  for (std::size_t i = 0; i < count; ++i) {
    char client_id[40];
    std::snprintf(client_id, sizeof client_id, "%011llx-%d-%zu",
                  static_cast<unsigned long long>(start_ms), loop, i);
    const uint64_t r = random();
    messages.push_back({.room = "room-" + std::to_string(r % rooms),
                        .user_id = "user-" + std::to_string((r >> 16) % 5000),
                        .sender_name = "Bench User",
                        .client_id = client_id,
                        .text = std::string(20 + (r >> 32) % 80, 'x')});
  }
  return messages;
}

class LatencyLog {
 public:
  explicit LatencyLog(std::size_t count) : micros_(count) {}
  void record(std::size_t i, std::chrono::steady_clock::duration latency) {
    micros_[i] = std::chrono::duration<double, std::micro>(latency).count();
  }
  // p in [0, 1] over everything recorded by every log.
  static double percentile(std::vector<double>& all, double p) {
    if (all.empty()) return 0;
    auto nth = all.begin() + static_cast<std::ptrdiff_t>(p * static_cast<double>(all.size() - 1));
    std::nth_element(all.begin(), nth, all.end());
    return *nth;
  }
  const std::vector<double>& micros() const { return micros_; }

 private:
  std::vector<double> micros_;
};

// CPU seconds used so far by this process's threads named `name` (the store names its threads),
// from /proc: on a machine shared with other work, CPU per message is the figure that holds
// still while wall-clock rates move with the load.
double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    std::getline(comm, thread_name);
    if (thread_name != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    total += (utime + stime) / tick;
  }
  return total;
}

// One event loop of BM_ServerLike: appends `messages` at `rate` / kServerLoops per second from
// `start` for `duration` (or as fast as acks come back when rate == 0). Records each append's
// latency from its scheduled time in `scheduled` and from the append() call in `stored`.
// Returns how many it sent.
std::size_t produce(HistoryStore& store, std::vector<AppendRequest>& messages, double rate,
                    std::chrono::steady_clock::time_point start,
                    std::chrono::steady_clock::duration duration, LatencyLog& scheduled,
                    LatencyLog& stored, std::atomic<uint64_t>& failed) {
  using Clock = std::chrono::steady_clock;
  std::counting_semaphore<kInFlightPerLoop> in_flight(kInFlightPerLoop);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(rate > 0 ? kServerLoops / rate : 0));
  std::size_t i = 0;
  for (; i < messages.size(); ++i) {
    Clock::time_point due = rate > 0 ? start + interval * static_cast<int64_t>(i) : Clock::now();
    if (due - start >= duration) break;
    if (rate > 0) {
      std::this_thread::sleep_until(due);
    } else {
      in_flight.acquire();
      due = Clock::now();
    }
    const Clock::time_point called = Clock::now();
    store.append(std::move(messages[i]),
                 [&, i, due, called, saturating = rate <= 0](const Result<AppendResult>& result) {
                   const Clock::time_point now = Clock::now();
                   scheduled.record(i, now - due);
                   stored.record(i, now - called);
                   if (!result) failed.fetch_add(1, std::memory_order_relaxed);
                   if (saturating) in_flight.release();
                 });
  }
  // The semaphore must outlive the callbacks that release it.
  for (int k = 0; rate <= 0 && k < kInFlightPerLoop; ++k) in_flight.acquire();
  return i;
}

void BM_ServerLike(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const double rate = static_cast<double>(state.range(0));
  const auto duration = std::chrono::seconds(3);
  // Enough messages for the run: the rate's worth, or a generous guess when saturating.
  const std::size_t per_loop =
      rate > 0 ? static_cast<std::size_t>(rate * 3 / kServerLoops) + 1 : 600'000;
  BenchDir dir;
  auto store = open_store(state, dir.path(), false, static_cast<std::size_t>(state.range(2)));
  if (!store) return;
  std::vector<std::vector<AppendRequest>> messages;
  for (int loop = 0; loop < kServerLoops; ++loop) {
    messages.push_back(server_messages(loop, per_loop, static_cast<uint64_t>(state.range(1))));
  }
  std::vector<LatencyLog> scheduled(kServerLoops, LatencyLog(per_loop));
  std::vector<LatencyLog> stored(kServerLoops, LatencyLog(per_loop));
  std::atomic<uint64_t> failed{0};
  std::vector<std::size_t> sent(kServerLoops, 0);
  double elapsed_s = 0, writer_cpu_s = 0;
  for (auto _ : state) {
    const double writer_cpu_before = thread_cpu_seconds("store-writer");
    const Clock::time_point start = Clock::now();
    std::vector<std::thread> loops;
    for (int loop = 0; loop < kServerLoops; ++loop) {
      loops.emplace_back([&, loop] {
        sent[loop] = produce(*store, messages[loop], rate, start, duration, scheduled[loop],
                             stored[loop], failed);
      });
    }
    for (std::thread& t : loops) t.join();
    store->flush();
    elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    writer_cpu_s = thread_cpu_seconds("store-writer") - writer_cpu_before;
  }
  std::vector<double> from_due, from_call;
  std::size_t total = 0;
  for (int loop = 0; loop < kServerLoops; ++loop) {
    const auto n = static_cast<std::ptrdiff_t>(sent[loop]);
    from_due.insert(from_due.end(), scheduled[loop].micros().begin(),
                    scheduled[loop].micros().begin() + n);
    from_call.insert(from_call.end(), stored[loop].micros().begin(),
                     stored[loop].micros().begin() + n);
    total += sent[loop];
  }
  state.counters["acked_per_s"] = static_cast<double>(total) / elapsed_s;
  // The writer thread's CPU per acknowledged append: 1e6 / this = what one core could ack.
  state.counters["writer_cpu_us"] = writer_cpu_s * 1e6 / static_cast<double>(total);
  const HistoryStore::Stats stats = store->stats();
  state.counters["per_commit"] =
      static_cast<double>(stats.appends_committed) / static_cast<double>(stats.transactions);
  state.counters["holds"] = static_cast<double>(stats.writer_holds);
  state.counters["held_ms"] = static_cast<double>(stats.writer_held_us) / 1000;
  state.counters["deleted"] = static_cast<double>(stats.deleted_by_retention);
  // From the scheduled time: what a client sees, including a producer that woke up late.
  state.counters["p50_us"] = LatencyLog::percentile(from_due, 0.50);
  state.counters["p99_us"] = LatencyLog::percentile(from_due, 0.99);
  state.counters["max_us"] = LatencyLog::percentile(from_due, 1.0);
  // From the append() call: the store's own share.
  state.counters["store_p50_us"] = LatencyLog::percentile(from_call, 0.50);
  state.counters["store_p99_us"] = LatencyLog::percentile(from_call, 0.99);
  state.counters["store_p999_us"] = LatencyLog::percentile(from_call, 0.999);
  if (failed.load() != 0) state.SkipWithError("some appends failed");
}
// rate 0 = as fast as the store acknowledges; rooms: messages spread evenly at random (the
// end-to-end `ack --rooms 100` run uses 100); retain: retain_per_room (50: retention deletes
// as fast as messages arrive, in steps between batches). One iteration of 3 s each.
BENCHMARK(BM_ServerLike)
    ->ArgNames({"rate", "rooms", "retain"})
    ->Args({10'000, 100, 10'000})
    ->Args({10'000, 1000, 10'000})
    ->Args({10'000, 100, 50})
    ->Args({50'000, 100, 10'000})
    ->Args({0, 100, 10'000})
    ->Args({0, 1000, 10'000})
    ->Args({0, 100, 50})
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// recent(room, 50) on a room holding 10000 messages (the default retention), round trip
// through the reader thread.
void BM_Recent50(benchmark::State& state) {
  BenchDir dir;
  auto store = open_store(state, dir.path(), false);
  if (!store) return;
  MessageMaker maker(kTimeOrdered);
  for (std::size_t i = 0; i < 10000 * kRooms.size(); ++i) store->append(maker.next(), nullptr);
  store->flush();
  for (auto _ : state) {
    std::promise<Result<HistoryPage>> answered;
    store->recent(kRooms[0], 50,
                  [&answered](Result<HistoryPage> page) { answered.set_value(std::move(page)); });
    Result<HistoryPage> page = answered.get_future().get();
    if (!page || page->messages.size() != 50) state.SkipWithError("short page");
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Recent50)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace parley::store

BENCHMARK_MAIN();
