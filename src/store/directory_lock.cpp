#include "store/directory_lock.h"

#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "store/store_files.h"

namespace parley::store {

Result<std::unique_ptr<DirectoryLock>> DirectoryLock::acquire(
    const std::filesystem::path& lock_file) {
  // Close-on-exec (open_private_file): a child exec'd by the server must not inherit, and so
  // keep alive, the lock.
  Result<int> fd = open_private_file(lock_file);
  if (!fd) return std::move(fd).error();
  if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(*fd);
    if (err == EWOULDBLOCK) {
      return Error(Errc::Unavailable, lock_file.parent_path().string() +
                                          " is already in use by another history store (lock "
                                          "file " +
                                          lock_file.string() + ")");
    }
    return Error::from_errno("cannot lock " + lock_file.string(), err);
  }
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(*fd));
}

DirectoryLock::~DirectoryLock() {
  ::close(fd_);
}

}  // namespace parley::store
