// The files of a history directory: created owner-only whatever the umask, and watched for
// being removed or replaced behind the store's back.
//
// Modes: history.lock and history.sqlite3 are created here with mode 0600 (then fchmod, since a
// umask such as 0277 would leave 0400). SQLite creates -wal and -shm with the database file's
// mode (and fchmods them to it when the umask took bits away), so they are 0600 too. A file that
// already exists keeps the mode it has: an operator may have chosen another.
//
// Watching: SQLite keeps its files open, so after `rm history.sqlite3` (or a copy moved over it)
// writes go on "succeeding" into an unlinked inode that the next start will not see, and a
// removed -wal takes every write since the last checkpoint with it. FileWatch remembers which
// inode each path named when the store opened it, and check() says whether it still does.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <vector>

#include "base/result.h"

namespace parley::store {

// Opens `file` read-write, creating it with mode 0600 when it does not exist. Returns the
// descriptor (close-on-exec), which the caller owns.
Result<int> open_private_file(const std::filesystem::path& file);

class FileWatch {
 public:
  FileWatch() = default;
  // Remembers the device and inode `files` name now. A file that does not exist is not watched.
  static Result<FileWatch> capture(const std::vector<std::filesystem::path>& files);

  // Ok while every watched path still names the file it named at capture. Otherwise an
  // Unavailable error naming the file and what happened to it (removed, replaced). One stat(2)
  // per file: cheap enough for every second and every failure.
  Status check() const;

 private:
  struct Watched {
    std::filesystem::path path;
    dev_t device;
    ino_t inode;
  };
  std::vector<Watched> files_;
};

}  // namespace parley::store
