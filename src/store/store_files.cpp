#include "store/store_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace parley::store {

Result<int> open_private_file(const std::filesystem::path& file) {
  // EXCL tells whether we create the file, and so whether its mode is ours to set.
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (::fchmod(fd, 0600) != 0) {
      const int err = errno;
      ::close(fd);
      return Error::from_errno("cannot set the mode of " + file.string(), err);
    }
    return fd;
  }
  if (errno != EEXIST) return Error::from_errno("cannot create " + file.string(), errno);
  fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("cannot open " + file.string(), errno);
  return fd;
}

Result<FileWatch> FileWatch::capture(const std::vector<std::filesystem::path>& files) {
  FileWatch watch;
  for (const std::filesystem::path& file : files) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) {
      watch.files_.push_back({file, st.st_dev, st.st_ino});
    } else if (errno != ENOENT) {
      return Error::from_errno("cannot stat " + file.string(), errno);
    }
  }
  return watch;
}

Status FileWatch::check() const {
  for (const Watched& file : files_) {
    struct stat st {};
    if (::stat(file.path.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        return Error(Errc::Unavailable, file.path.string() + " was removed while open");
      }
      Error error = Error::from_errno("cannot stat " + file.path.string(), err);
      error.code = Errc::Unavailable;
      return error;
    }
    if (st.st_dev != file.device || st.st_ino != file.inode) {
      return Error(Errc::Unavailable, file.path.string() + " was replaced by another file");
    }
  }
  return {};
}

}  // namespace parley::store
