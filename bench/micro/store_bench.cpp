// History store: append throughput with group commit, the latency of one acknowledged append,
// and the latency of recent(room, 50). Measure a release build on a real disk: a tmpfs makes
// fsync free and the sync_full numbers meaningless. PARLEY_BENCH_DIR picks the directory
// (default: the system temp directory).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>

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

std::unique_ptr<HistoryStore> open_store(benchmark::State& state, const fs::path& dir,
                                         bool sync_full) {
  auto opened = HistoryStore::open({.dir = dir, .sync_full = sync_full});
  if (auto* error = std::get_if<std::string>(&opened)) {
    state.SkipWithError(error->c_str());
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<HistoryStore>>(opened));
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
      store->append(maker.next(), [&failed](const AppendResult& result) {
        if (!result.ok) failed.fetch_add(1, std::memory_order_relaxed);
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
    std::promise<AppendResult> acknowledged;
    store->append(maker.next(),
                  [&acknowledged](const AppendResult& result) { acknowledged.set_value(result); });
    if (!acknowledged.get_future().get().ok) state.SkipWithError("append failed");
  }
}
BENCHMARK(BM_AppendAcknowledgeLatency)
    ->ArgName("sync_full")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

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
    std::promise<HistoryPage> answered;
    store->recent(kRooms[0], 50,
                  [&answered](HistoryPage page) { answered.set_value(std::move(page)); });
    HistoryPage page = answered.get_future().get();
    if (page.messages.size() != 50) state.SkipWithError("short page");
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Recent50)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace parley::store

BENCHMARK_MAIN();
