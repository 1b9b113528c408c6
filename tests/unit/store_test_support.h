// What the store's tests share: a temporary directory, a bounded wait for a callback, a
// message maker, and the store calls as plain functions.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "store/history_store.h"

namespace parley::store::test_support {

namespace fs = std::filesystem;
inline constexpr auto kTimeout = std::chrono::seconds(20);

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "parley-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

using Appended = Result<AppendResult>;
using Page = Result<HistoryPage>;
using Ids = std::vector<uint64_t>;

// Starts an asynchronous store call and waits (bounded) for its callback.
template <typename Answer, typename Start>
Answer await(Start start) {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  start([promise](Answer answer) { promise->set_value(std::move(answer)); });
  if (future.wait_for(kTimeout) != std::future_status::ready) {
    ADD_FAILURE() << "store did not answer within the timeout";
    return Error(Errc::Internal, "no answer within the timeout");
  }
  return future.get();
}

inline AppendRequest message(std::string room, std::string text, std::string client_id = "",
                             std::string user_id = "u1", int64_t ts_ms = 0) {
  return AppendRequest{.room = std::move(room),
                       .user_id = std::move(user_id),
                       .sender_name = "Ann",
                       .client_id = std::move(client_id),
                       .text = std::move(text),
                       .ts_ms = ts_ms};
}

inline std::unique_ptr<HistoryStore> open_store(const HistoryStore::Options& options) {
  auto opened = HistoryStore::open(options);
  if (!opened) {
    ADD_FAILURE() << opened.error().message;
    return nullptr;
  }
  return std::move(opened).value();
}

inline Appended append(HistoryStore& store, AppendRequest request) {
  return await<Appended>([&](auto done) { store.append(std::move(request), std::move(done)); });
}
inline Page recent(HistoryStore& store, const std::string& room, std::size_t limit) {
  return await<Page>([&](auto done) { store.recent(room, limit, std::move(done)); });
}
inline Page before(HistoryStore& store, const std::string& room, uint64_t id, std::size_t limit) {
  return await<Page>([&](auto done) { store.before(room, id, limit, std::move(done)); });
}
inline Page after(HistoryStore& store, const std::string& room, uint64_t id, std::size_t limit) {
  return await<Page>([&](auto done) { store.after(room, id, limit, std::move(done)); });
}
inline Ids ids(const Page& page) {
  if (!page) {
    ADD_FAILURE() << page.error().message;
    return {};
  }
  Ids ids;
  for (const StoredMessage& m : page->messages) ids.push_back(m.id);
  return ids;
}

// Polls `condition` (cheap, thread-safe) until it holds or kTimeout passes: for state the
// store changes on its own schedule (the file watch, the checkpointer).
template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace parley::store::test_support
