#include "net/output_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace parley::net {

void OutputQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  pending_ += bytes.size();
  if (segments_.size() > head_ && !segments_.back().shared) {
    segments_.back().owned.append(bytes);
    return;
  }
  Segment seg;
  seg.owned.assign(bytes);
  segments_.push_back(std::move(seg));
}

void OutputQueue::append(SharedBytes bytes) {
  if (!bytes || bytes->empty()) return;
  pending_ += bytes->size();
  Segment seg;
  seg.shared = std::move(bytes);
  segments_.push_back(std::move(seg));
}

void OutputQueue::consume(std::size_t n) {
  pending_ -= n;
  while (n > 0) {
    Segment& seg = segments_[head_];
    std::size_t left = seg.bytes().size() - seg.offset;
    if (n < left) {
      seg.offset += n;
      return;
    }
    n -= left;
    seg = Segment{};  // drop the reference now: the frame may be freed
    ++head_;
  }
}

void OutputQueue::take(std::size_t n) {
  consume(n);
  if (pending_ == 0) {
    segments_.clear();
    head_ = 0;
  }
}

OutputQueue::FlushResult OutputQueue::flush(int fd) {
  // Linux's IOV_MAX: a member's whole burst leaves in one sendmsg. With 64,
  // a saturated fan-out (57 frames per member per loop iteration on average,
  // many iterations over 64) took 1.3 calls per member per iteration, and
  // each call's fixed cost was most of a 70-byte frame's (docs/BENCHMARKS.md,
  // "Before and after the chat core reshape"). 16 KiB of stack.
  constexpr std::size_t kMaxIov = 1024;
  while (pending_ > 0) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    for (std::size_t i = head_; i < segments_.size() && count < kMaxIov; ++i) {
      std::string_view b = segments_[i].bytes().substr(segments_[i].offset);
      iov[count].iov_base = const_cast<char*>(b.data());
      iov[count].iov_len = b.size();
      ++count;
    }
    // sendmsg rather than writev only for MSG_NOSIGNAL: a peer that is gone
    // is an EPIPE here, whatever the process's SIGPIPE disposition.
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return FlushResult::Error;
    }
    consume(static_cast<std::size_t>(n));
  }
  if (pending_ == 0) {
    // Keep the segment array for the next burst: no allocation per message
    // on a busy connection. An idle one gives it back through clear() (see
    // TcpConnection::trim, called by the session's periodic sweep).
    segments_.clear();
    head_ = 0;
    return FlushResult::Done;
  }
  // Compact so the vector does not grow forever under a steady trickle.
  if (head_ > 32 && head_ * 2 > segments_.size()) {
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return FlushResult::WouldBlock;
}

std::size_t OutputQueue::drop_unstarted() {
  std::size_t keep = head_;
  if (keep < segments_.size() && segments_[keep].offset > 0) ++keep;
  std::size_t dropped = 0;
  for (std::size_t i = keep; i < segments_.size(); ++i) dropped += segments_[i].bytes().size();
  segments_.resize(keep);
  pending_ -= dropped;
  return dropped;
}

void OutputQueue::clear() {
  std::vector<Segment>().swap(segments_);
  head_ = 0;
  pending_ = 0;
}

}  // namespace parley::net
