#include "net/listener.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace parley::net {

Listener::Listener(EventLoop& loop, int listen_fd, AcceptCallback on_accept)
    : loop_(loop), fd_(listen_fd), on_accept_(std::move(on_accept)) {
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Status Listener::start() {
  return loop_.add(fd_, EPOLLIN, this);
}

Listener::~Listener() {
  close();
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void Listener::close() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (fd_ < 0) return;
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void Listener::shed_one() {
  // Out of descriptors: the pending connection would stay in the backlog and
  // level-triggered epoll would wake us forever. Free the reserve descriptor,
  // accept and close the newcomer (it sees a reset rather than a hang), and
  // take the reserve back.
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void Listener::on_io(uint32_t /*events*/) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  // Accept a bounded batch per wake-up so a connection storm cannot starve
  // the clients already connected.
  for (int i = 0; i < 256 && fd_ >= 0; ++i) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) shed_one();
      return;
    }
    on_accept_(fd);
  }
}

}  // namespace parley::net
