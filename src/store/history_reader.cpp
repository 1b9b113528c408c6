#include "store/history_reader.h"

#include <pthread.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace parley::store {

Result<std::unique_ptr<HistoryReader>> HistoryReader::start(const std::filesystem::path& file,
                                                            std::chrono::milliseconds busy_timeout,
                                                            StoreHealth& health,
                                                            StoreCounters& counters) {
  Result<SqliteDatabase> opened =
      SqliteDatabase::open(file, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!opened) return std::move(opened).error();
  std::unique_ptr<HistoryReader> reader(
      new HistoryReader(std::move(opened).value(), health, counters));
  // A WAL reader only waits while another connection recovers the WAL after a crash.
  reader->db_.set_busy_timeout(busy_timeout);
  if (Status prepared = reader->log_.prepare(reader->db_.handle()); !prepared) {
    return prepared.error();
  }
  reader->thread_ = std::thread(&HistoryReader::run, reader.get());
  // Named for top -H, perf and gdb.
  pthread_setname_np(reader->thread_.native_handle(), "store-reader");
  return reader;
}

HistoryReader::~HistoryReader() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void HistoryReader::query(PageQuery query) {
  submit(std::move(query));
}

void HistoryReader::search(SearchQuery query) {
  submit(std::move(query));
}

// Queued in its room's lane; after close() the read is answered at once.
template <class Query>
void HistoryReader::submit(Query query) {
  auto done = query.done;
  const std::string room = query.room;
  const uint64_t lane = query.tag.lane;
  if (queue_.push(room, lane, 0, Task(std::move(query))) != WorkQueue<Task>::PushResult::kQueued &&
      done) {
    done(Error(Errc::Closed, "history store: closed"));
  }
}

void HistoryReader::run() {
  std::vector<Task> tasks;
  // One at a time: a read that arrives while another runs is next in its turn, not behind a
  // batch taken earlier.
  while (queue_.pop_batch(tasks, 1)) {
    for (Task& task : tasks) {
      std::visit(
          [this](auto& q) {
            if (!dropped(q)) answer(q);
          },
          task);
    }
  }
}

template <class Query>
bool HistoryReader::dropped(Query& query) {
  const auto& cancelled = query.tag.cancelled;
  if (!cancelled || !cancelled->load(std::memory_order_acquire)) return false;
  StoreCounters::add(counters_.reads_cancelled, 1);
  if (query.done) query.done(Error(Errc::Closed, "history store: read cancelled"));
  return true;
}

template <class T>
void HistoryReader::count(const Result<T>& result) {
  if (result) {
    StoreCounters::add(counters_.reads, 1);
    health_.succeeded(StoreHealth::Source::kRead);
  } else {
    StoreCounters::add(counters_.read_errors, 1);
    health_.failed(StoreHealth::Source::kRead, result.error());
  }
}

void HistoryReader::answer(PageQuery& q) {
  Result<HistoryPage> page = log_.page(
      q.room, LogReader::Range{q.after_id, q.before_id, q.limit, q.oldest_first, q.messages_only});
  if (!page) page = with_context("history store: read failed", page.error());
  count(page);
  if (q.done) q.done(std::move(page));
}

void HistoryReader::answer(SearchQuery& q) {
  Result<SearchPage> page = log_.search(q.room, q.query, q.before, q.limit);
  if (!page) page = with_context("history store: search failed", page.error());
  count(page);
  if (q.done) q.done(std::move(page));
}

}  // namespace parley::store
