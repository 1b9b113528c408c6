#include "store/store_health.h"

#include <spdlog/spdlog.h>

namespace parley::store {
namespace {

const char* recovered(StoreHealth::Source source) {
  switch (source) {
    case StoreHealth::Source::kFile:
      return "history store: the database files are the ones it opened again";
    case StoreHealth::Source::kWrite:
      return "history store: writes succeed again";
    case StoreHealth::Source::kRead:
      return "history store: reads succeed again";
    case StoreHealth::Source::kCheckpoint:
      return "history store: WAL checkpoints succeed again";
  }
  return "history store: recovered";
}

}  // namespace

void StoreHealth::failed(Source source, const Error& error) {
  const auto i = static_cast<std::size_t>(source);
  std::lock_guard lock(mutex_);
  const bool first = !failing_[i].load(std::memory_order_relaxed);
  last_error_[i] = Status(error);
  failing_[i].store(true, std::memory_order_relaxed);
  any_failing_.store(true, std::memory_order_release);
  log_failure(logs_[i], error, first);
}

void StoreHealth::succeeded(Source source) {
  const auto i = static_cast<std::size_t>(source);
  if (!failing_[i].load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mutex_);
  if (!failing_[i].load(std::memory_order_relaxed)) return;
  failing_[i].store(false, std::memory_order_relaxed);
  last_error_[i] = Status();
  bool any = false;
  for (const auto& f : failing_) any = any || f.load(std::memory_order_relaxed);
  any_failing_.store(any, std::memory_order_release);
  spdlog::info(recovered(source));
  logs_[i] = Log{};
}

void StoreHealth::refused(const Error& error) {
  std::lock_guard lock(mutex_);
  log_failure(refused_log_, error, false);
}

Status StoreHealth::status() const {
  if (!any_failing_.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(mutex_);
  for (const Status& status : last_error_) {
    if (!status) return status;
  }
  return {};
}

void StoreHealth::log_failure(Log& log, const Error& error, bool first) {
  const Clock::time_point now = Clock::now();
  if (!first && log.last != Clock::time_point{} && now - log.last < kLogEvery) {
    ++log.suppressed;
    return;
  }
  if (log.suppressed > 0) {
    spdlog::error("{} ({}; {} more like it since the last report)", error.message,
                  errc_name(error.code), log.suppressed);
  } else {
    spdlog::error("{} ({})", error.message, errc_name(error.code));
  }
  log.last = now;
  log.suppressed = 0;
}

}  // namespace parley::store
