// An exclusive advisory lock (flock) on a file, held for the lifetime of the object.
// The kernel drops it when the process dies, however it dies, so a crash never leaves the
// history directory locked.
#pragma once

#include <filesystem>
#include <memory>

#include "base/result.h"

namespace parley::store {

class DirectoryLock {
 public:
  // Fails at once (no waiting) when another open file description holds the lock: another
  // process, or another HistoryStore on the same directory in this one (Unavailable). The lock
  // file is created 0600 (store_files.h).
  static Result<std::unique_ptr<DirectoryLock>> acquire(const std::filesystem::path& lock_file);

  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace parley::store
