#include "store/history_trimmer.h"

#include <algorithm>
#include <utility>

#include "base/wall_clock.h"
#include "store/append_request.h"

namespace parley::store {
namespace {

constexpr const char* kFirstIdSql = "SELECT id FROM messages WHERE room = ?1 ORDER BY id LIMIT 1";
// The first message in the window that has not expired: everything before it has. Timestamps
// rise with ids, so this reads only rows about to be deleted.
constexpr const char* kFirstFreshSql =
    "SELECT id FROM messages WHERE room = ?1 AND id <= ?2 AND ts_ms >= ?3 ORDER BY id LIMIT 1";
// What a delete is about to remove, for the room's size, then the delete: both one range of the
// (room, id) index (the second one from the page cache). Not DELETE ... RETURNING: SQLite
// collects RETURNING rows in a temporary table that it creates and frees per statement, which
// cost more than the delete itself.
const std::string kWeighThroughSql = std::string("SELECT count(*), coalesce(sum(") +
                                     kStoredBytesSql +
                                     "), 0) FROM messages WHERE room = ?1 AND id <= ?2";
constexpr const char* kDeleteThroughSql = "DELETE FROM messages WHERE room = ?1 AND id <= ?2";
// The messages about to be deleted that show a file: the partial index messages_with_file.
constexpr const char* kFilesThroughSql =
    "SELECT id, file FROM messages WHERE room = ?1 AND id <= ?2 AND file <> ''";

// A room the cap trims at least this much (by weight) at a time, so that leveling rooms of
// nearly equal size does not take one statement per message; small enough that the leveling
// stays even (rooms end within about this much of each other).
constexpr uint64_t kMinCapPiece = 4 * 1024;
// Trim the cap down to this share of max_bytes before stopping.
constexpr uint64_t kCapLowWaterPercent = 90;

}  // namespace

HistoryTrimmer::HistoryTrimmer(const HistoryStore::Options& options, RoomLedger& rooms)
    : options_(options), rooms_(rooms), last_pass_(Clock::now()) {}

Status HistoryTrimmer::prepare(SqliteDatabase& db) {
  if (Status s = first_id_.prepare(db.handle(), kFirstIdSql); !s) return s;
  if (Status s = first_fresh_.prepare(db.handle(), kFirstFreshSql); !s) return s;
  if (Status s = weigh_through_.prepare(db.handle(), kWeighThroughSql); !s) return s;
  if (Status s = files_through_.prepare(db.handle(), kFilesThroughSql); !s) return s;
  return delete_through_.prepare(db.handle(), kDeleteThroughSql);
}

void HistoryTrimmer::measured(uint64_t used_bytes) {
  used_bytes_ = used_bytes;
  if (options_.max_bytes == 0) return;
  if (used_bytes > options_.max_bytes) {
    over_cap_ = true;
  } else if (used_bytes <= options_.max_bytes / 100 * kCapLowWaterPercent) {
    over_cap_ = false;
  }
}

bool HistoryTrimmer::retention_enabled() const {
  return options_.retain_per_room > 0 || options_.retain_age.count() > 0;
}

bool HistoryTrimmer::cap_active() const {
  // With nothing left to delete the cap cannot help; it waits for the next measurement.
  return over_cap_ && rooms_.total_bytes() > 0;
}

bool HistoryTrimmer::pass_may_start(Clock::time_point now) const {
  return retention_enabled() && pass_next_ >= pass_rooms_.size() &&
         now - last_pass_ >= options_.retention_interval;
}

bool HistoryTrimmer::idle_pass_due(Clock::time_point now) const {
  // retention_interval may be 0 (tests): an idle store still looks only once a second.
  return options_.retain_age.count() > 0 && pass_may_start(now) &&
         now - last_pass_ >=
             std::max<Clock::duration>(options_.retention_interval, std::chrono::seconds(1));
}

bool HistoryTrimmer::batch_committed(Clock::time_point now) {
  if (pass_may_start(now)) pass_requested_ = true;
  return pass_requested_;
}

bool HistoryTrimmer::has_work(Clock::time_point now) const {
  return cap_active() || pass_next_ < pass_rooms_.size() || pass_requested_ || idle_pass_due(now);
}

HistoryTrimmer::Clock::time_point HistoryTrimmer::next_due() const {
  if (cap_active() || pass_next_ < pass_rooms_.size()) return Clock::now();
  if (options_.retain_age.count() == 0) return Clock::time_point::max();
  return last_pass_ +
         std::max<Clock::duration>(options_.retention_interval, std::chrono::seconds(1));
}

Result<HistoryTrimmer::Deleted> HistoryTrimmer::step(Clock::time_point now) {
  Deleted deleted;
  if (cap_active()) {
    if (Status s = cap_step(deleted); !s) return s.error();
    return deleted;
  }
  if (pass_requested_ || idle_pass_due(now)) start_pass(now);
  if (Status s = retention_step(deleted); !s) return s.error();
  return deleted;
}

void HistoryTrimmer::start_pass(Clock::time_point now) {
  last_pass_ = now;
  pass_requested_ = false;
  pass_expired_before_ =
      unix_time_ms() -
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.retain_age).count();
  pass_rooms_.clear();
  pass_next_ = 0;
  const bool by_age = options_.retain_age.count() > 0;
  for (const auto& [room, state] : rooms_.committed()) {
    const bool over_count =
        options_.retain_per_room > 0 && state.messages > options_.retain_per_room;
    if (over_count || (by_age && state.messages > 0)) pass_rooms_.push_back(room);
  }
}

Status HistoryTrimmer::retention_step(Deleted& deleted) {
  uint64_t budget = kMaxDeletesPerStep;
  for (std::size_t looked = 0; looked < kMaxRoomsPerStep && pass_next_ < pass_rooms_.size();
       ++looked) {
    Result<uint64_t> n = trim_room(pass_rooms_[pass_next_], budget, pass_expired_before_);
    if (!n) return n.error();
    deleted.by_retention += *n;
    budget -= *n;
    if (budget == 0) return {};  // this room may hold more: it is looked at again next step
    ++pass_next_;
  }
  if (pass_next_ == pass_rooms_.size()) {
    pass_rooms_.clear();
    pass_next_ = 0;
  }
  return {};
}

Result<uint64_t> HistoryTrimmer::trim_room(const std::string& room, uint64_t budget,
                                           int64_t expired_before) {
  const RoomState state = rooms_.get(room);
  const bool by_count = options_.retain_per_room > 0 && state.messages > options_.retain_per_room;
  if (!by_count && (options_.retain_age.count() == 0 || state.messages == 0)) return 0;
  Result<uint64_t> first = first_id(room);
  if (!first || *first == 0) return first;
  const uint64_t window_end = std::min(state.last_id, *first + budget - 1);
  uint64_t cut = 0;  // delete ids <= cut
  if (by_count) cut = *first + (state.messages - options_.retain_per_room) - 1;
  if (options_.retain_age.count() > 0) {
    Result<uint64_t> aged = age_cut(room, *first, window_end, expired_before);
    if (!aged) return aged;
    cut = std::max(cut, *aged);
  }
  cut = std::min(cut, window_end);
  if (cut < *first) return 0;
  return delete_through(room, cut);
}

Status HistoryTrimmer::cap_step(Deleted& deleted) {
  // Pages in use per byte of weight: the weight is an estimate, the pages are what counts.
  const uint64_t low_water = options_.max_bytes / 100 * kCapLowWaterPercent;
  const double pages_per_weight =
      std::max(1.0, static_cast<double>(used_bytes_) / static_cast<double>(rooms_.total_bytes()));
  auto need =
      static_cast<uint64_t>(static_cast<double>(used_bytes_ - std::min(used_bytes_, low_water)) /
                            pages_per_weight) +
      1;
  // Largest first: a heap of (bytes, room), rebuilt per step (O(rooms)) so it is never stale.
  std::vector<std::pair<uint64_t, const std::string*>> heap;
  heap.reserve(rooms_.committed().size());
  for (const auto& [room, state] : rooms_.committed()) {
    if (state.messages > 0) heap.emplace_back(state.bytes, &room);
  }
  std::make_heap(heap.begin(), heap.end());
  uint64_t budget = kMaxDeletesPerStep;
  while (need > 0 && budget > 0 && !heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const std::string& room = *heap.back().second;
    heap.pop_back();
    const RoomState state = rooms_.get(room);
    const uint64_t next = heap.empty() ? 0 : heap.front().first;
    const uint64_t piece =
        std::min(need, std::max(kMinCapPiece, state.bytes - std::min(state.bytes, next)));
    const uint64_t average =
        std::max<uint64_t>(1, state.bytes / std::max<uint64_t>(1, state.messages));
    const uint64_t count = std::clamp<uint64_t>((piece + average - 1) / average, 1, budget);
    Result<uint64_t> first = first_id(room);
    if (!first) return first.error();
    if (*first == 0) continue;
    Result<uint64_t> n = delete_through(room, std::min(state.last_id, *first + count - 1));
    if (!n) return n.error();
    deleted.by_cap += *n;
    budget -= std::min(budget, *n);
    const RoomState& after = rooms_.get(room);
    need -= std::min(need, state.bytes - after.bytes);
    if (after.messages > 0) {
      heap.emplace_back(after.bytes, &room);
      std::push_heap(heap.begin(), heap.end());
    }
  }
  return {};
}

Result<uint64_t> HistoryTrimmer::first_id(const std::string& room) {
  first_id_.bind(1, room);
  Result<bool> row = first_id_.next();
  uint64_t id = row && *row ? static_cast<uint64_t>(first_id_.column_int64(0)) : 0;
  first_id_.reset();
  if (!row) return with_context("cannot find the oldest message of a room", row.error());
  return id;
}

Result<uint64_t> HistoryTrimmer::age_cut(const std::string& room, uint64_t first,
                                         uint64_t window_end, int64_t expired_before) {
  first_fresh_.bind(1, room);
  first_fresh_.bind(2, static_cast<int64_t>(window_end));
  first_fresh_.bind(3, expired_before);
  Result<bool> row = first_fresh_.next();
  // No fresh message in the window: all of it has expired.
  uint64_t cut = window_end;
  if (row && *row) cut = static_cast<uint64_t>(first_fresh_.column_int64(0)) - 1;
  first_fresh_.reset();
  if (!row) return with_context("cannot find the expired messages of a room", row.error());
  return std::max(cut, first - 1);
}

Result<uint64_t> HistoryTrimmer::delete_through(const std::string& room, uint64_t cut) {
  weigh_through_.bind(1, room);
  weigh_through_.bind(2, static_cast<int64_t>(cut));
  Result<bool> row = weigh_through_.next();
  const auto count = static_cast<uint64_t>(row && *row ? weigh_through_.column_int64(0) : 0);
  const auto bytes = static_cast<uint64_t>(row && *row ? weigh_through_.column_int64(1) : 0);
  weigh_through_.reset();
  if (!row) return with_context("cannot weigh old messages", row.error());
  if (count == 0) return 0;
  files_through_.bind(1, room);
  files_through_.bind(2, static_cast<int64_t>(cut));
  Result<bool> file = files_through_.next();
  for (; file && *file; file = files_through_.next()) {
    dropped_files_.push_back(FileRef{room, static_cast<uint64_t>(files_through_.column_int64(0)),
                                     files_through_.column_text(1)});
  }
  files_through_.reset();
  if (!file) return with_context("cannot find the files of old messages", file.error());
  delete_through_.bind(1, room);
  delete_through_.bind(2, static_cast<int64_t>(cut));
  if (Status deleted = delete_through_.run(); !deleted) {
    return with_context("cannot delete old messages", deleted.error());
  }
  RoomState& state = rooms_.change(room);
  state.messages -= std::min(state.messages, count);
  state.bytes -= std::min(state.bytes, bytes);
  return count;
}

}  // namespace parley::store
