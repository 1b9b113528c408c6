#include "store/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace parley::store {

std::variant<std::unique_ptr<DirectoryLock>, std::string> DirectoryLock::acquire(
    const std::filesystem::path& lock_file) {
  // CLOEXEC: a child exec'd by the server must not inherit (and so keep alive) the lock.
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create " + lock_file.string() + ": " + std::strerror(errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return lock_file.parent_path().string() +
             " is already in use by another history store (lock file " + lock_file.string() + ")";
    }
    return "cannot lock " + lock_file.string() + ": " + std::strerror(error);
  }
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd));
}

DirectoryLock::~DirectoryLock() {
  ::close(fd_);
}

}  // namespace parley::store
