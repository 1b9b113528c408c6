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

constexpr uint32_t kInput = EPOLLIN | EPOLLRDHUP;

}  // namespace

TcpConnection::TcpConnection(EventLoop& loop, int fd) : loop_(loop), fd_(fd) {}

TcpConnection::~TcpConnection() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  release();
}

Status TcpConnection::start(Handler& handler) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  handler_ = &handler;
  interest_ = kInput;
  return loop_.add(fd_, interest_, this);
}

void TcpConnection::release() {
  if (flush_scheduled_) loop_.uncork(this);
  flush_scheduled_ = false;
  loop_.cancel(linger_timer_);
  linger_timer_ = 0;
  if (fd_ >= 0) {
    loop_.remove(fd_);  // harmless when start() never registered it
    ::close(fd_);
    fd_ = -1;
  }
  out_.clear();
}

void TcpConnection::send(std::string_view bytes) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (state_ != State::Open) return;
  out_.append(bytes);
  schedule_flush();
}

void TcpConnection::send(SharedBytes bytes) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (state_ != State::Open) return;
  out_.append(std::move(bytes));
  schedule_flush();
}

void TcpConnection::schedule_flush() {
  // While EPOLLOUT is armed the kernel tells us when to write; otherwise
  // write once before the loop sleeps.
  if (flush_scheduled_ || (interest_ & EPOLLOUT) != 0) return;
  flush_scheduled_ = true;
  loop_.cork(this);
}

void TcpConnection::pause_reading() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (paused_ || fd_ < 0) return;
  paused_ = true;
  update_interest();
  // on_drained comes from a flush: make sure one happens even when the queue
  // is already empty.
  schedule_flush();
}

void TcpConnection::resume_reading() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (!paused_) return;
  paused_ = false;
  update_interest();
}

void TcpConnection::flush() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  flush_scheduled_ = false;
  if (fd_ < 0) return;
  OutputQueue::FlushResult result = out_.flush(fd_);
  if (result == OutputQueue::FlushResult::Error) {
    close_now();
    return;
  }
  bool drained = result == OutputQueue::FlushResult::Done;
  if (drained && state_ == State::Draining) finish_drain();
  update_interest();
  if (drained && paused_ && state_ == State::Open && handler_ != nullptr) handler_->on_drained();
}

void TcpConnection::update_interest() {
  if (fd_ < 0 || state_ == State::Closed) return;
  uint32_t want = (wants_input() ? kInput : 0u) | (out_.empty() ? 0u : uint32_t{EPOLLOUT});
  if (want == interest_) return;
  interest_ = want;
  // MOD only fails for a descriptor epoll does not know: a bug, but one that
  // must not leave the connection hanging.
  if (!loop_.modify(fd_, want, this)) close_now();
}

void TcpConnection::close_after_flush() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (state_ != State::Open) return;
  state_ = State::Draining;
  if (out_.empty()) {
    finish_drain();
  } else {
    schedule_flush();
  }
  update_interest();  // reading resumes (and discards) until the peer's FIN
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
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  // A plain close(): the kernel resets the connection itself when input we
  // never read is waiting (a flooder we stopped reading), and otherwise still
  // delivers what it holds, then FIN (a slow reader keeps its last frames).
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
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (state_ == State::Closed) return;
  if (events & EPOLLOUT) flush();  // may resume reading, or close
  if (state_ == State::Closed) return;
  if (wants_input()) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_some();
  } else if (events & (EPOLLHUP | EPOLLERR)) {
    // Not reading, but the socket failed or is shut both ways: nothing we
    // queue can arrive. (epoll reports these whatever the interest.)
    close_now();
  }
}

}  // namespace parley::net
