// Bytes waiting to be written to one socket.
//
// A broadcast frame is encoded once and shared by every recipient
// (SharedBytes); the queue holds a reference, not a copy. Small private writes
// (pongs, close frames, HTTP responses) are coalesced into owned segments.
// flush() hands everything to the kernel in one gathered write (sendmsg), so
// whatever was queued during one loop iteration leaves in as few syscalls as
// possible. `fd` must be a socket.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/shared_text.h"

namespace parley::net {

class OutputQueue {
 public:
  enum class FlushResult { Done, WouldBlock, Error };

  void append(std::string_view bytes);
  void append(SharedBytes bytes);

  // Writes as much as the socket takes.
  FlushResult flush(int fd);

  // For a transport that is not a socket (TLS encrypts from here): the first
  // bytes not yet taken (empty when none), and taking `n` of them.
  std::string_view front() const {
    return pending_ == 0 ? std::string_view()
                         : segments_[head_].bytes().substr(segments_[head_].offset);
  }
  void take(std::size_t n);

  bool empty() const { return pending_ == 0; }
  std::size_t pending_bytes() const { return pending_; }

  // Drops everything and releases memory (idle connections hold none).
  void clear();
  // Drops what the kernel has not started to take, keeping a partly written
  // segment so the byte stream stays well-formed (a frame is never cut).
  // Returns the bytes dropped.
  std::size_t drop_unstarted();

 private:
  struct Segment {
    SharedBytes shared;  // set for shared frames
    std::string owned;   // used when `shared` is null
    std::size_t offset = 0;
    std::string_view bytes() const {
      return shared ? std::string_view(*shared) : std::string_view(owned);
    }
  };
  void consume(std::size_t n);

  std::vector<Segment> segments_;
  std::size_t head_ = 0;  // first segment not fully written
  std::size_t pending_ = 0;
};

}  // namespace parley::net
