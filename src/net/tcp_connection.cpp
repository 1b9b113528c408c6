#include "net/tcp_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace parley::net {
namespace {

// One read buffer per loop thread, shared by all its connections: an idle
// connection holds no input buffer (protocol layers copy only the partial
// frame or request head they still need).
constexpr std::size_t kReadBufferSize = 64 * 1024;
thread_local std::array<char, kReadBufferSize> t_read_buffer;

// How long we wait for the peer's FIN after sending ours.
constexpr auto kLingerTimeout = std::chrono::seconds(2);

}  // namespace

TcpConnection::TcpConnection(EventLoop& loop, int fd) : loop_(loop), fd_(fd) {}

TcpConnection::~TcpConnection() {
  release();
}

void TcpConnection::start(Handler* handler) {
  handler_ = handler;
  loop_.add(fd_, EPOLLIN | EPOLLRDHUP, this);
}

void TcpConnection::release() {
  if (flush_scheduled_) loop_.uncork(this);
  flush_scheduled_ = false;
  if (linger_timer_ != 0) loop_.cancel(linger_timer_);
  linger_timer_ = 0;
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  out_.clear();
}

void TcpConnection::send(std::string_view bytes) {
  if (state_ != State::Open) return;
  out_.append(bytes);
  schedule_flush();
}

void TcpConnection::send(SharedBytes bytes) {
  if (state_ != State::Open) return;
  out_.append(std::move(bytes));
  schedule_flush();
}

void TcpConnection::schedule_flush() {
  // While EPOLLOUT is armed the kernel tells us when to write; otherwise
  // write once before the loop sleeps.
  if (flush_scheduled_ || want_write_) return;
  flush_scheduled_ = true;
  loop_.cork(this);
}

void TcpConnection::flush() {
  flush_scheduled_ = false;
  if (fd_ < 0) return;
  switch (out_.flush(fd_)) {
    case OutputQueue::FlushResult::Error:
      close_now();
      return;
    case OutputQueue::FlushResult::WouldBlock:
      break;
    case OutputQueue::FlushResult::Done:
      if (state_ == State::Draining) finish_drain();
      break;
  }
  update_interest();
}

void TcpConnection::update_interest() {
  if (fd_ < 0) return;
  bool want = !out_.empty();
  if (want == want_write_) return;
  want_write_ = want;
  loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u), this);
}

void TcpConnection::close_after_flush() {
  if (state_ != State::Open) return;
  state_ = State::Draining;
  if (out_.empty()) {
    finish_drain();
  } else {
    schedule_flush();
  }
}

void TcpConnection::finish_drain() {
  // FIN first, then keep reading (and discarding) until the peer's FIN, so
  // that unread input does not turn our close into a reset that could destroy
  // the frames we just sent.
  state_ = State::Lingering;
  ::shutdown(fd_, SHUT_WR);
  linger_timer_ = loop_.run_after(kLingerTimeout, [this] {
    linger_timer_ = 0;
    close_now();
  });
}

void TcpConnection::close_now() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  release();
  if (handler_ != nullptr) handler_->on_disconnect();
}

void TcpConnection::read_some() {
  ssize_t n = ::read(fd_, t_read_buffer.data(), t_read_buffer.size());
  if (n > 0) {
    if (state_ == State::Open && handler_ != nullptr) {
      handler_->on_data(std::span<char>(t_read_buffer.data(), static_cast<std::size_t>(n)));
    }
    return;  // in Draining/Lingering the input is discarded
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  close_now();  // EOF or error
}

void TcpConnection::on_io(uint32_t events) {
  if (state_ == State::Closed) return;
  if (events & EPOLLOUT) flush();
  if (state_ == State::Closed) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_some();
}

}  // namespace parley::net
