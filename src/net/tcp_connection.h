// One accepted TCP connection on one event loop: non-blocking reads into the
// loop's shared read buffer, a corked output queue, and an orderly close.
//
// It knows nothing of HTTP or WebSocket: bytes go up to a Handler, bytes come
// down through send(). Not thread-safe: touched only from its loop's thread.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/output_queue.h"

namespace parley::net {

class TcpConnection final : public IoHandler, public Corked {
 public:
  class Handler {
   public:
    // Received bytes; the span is only valid during the call and may be
    // modified in place (e.g. unmasked).
    virtual void on_data(std::span<char> bytes) = 0;
    // The connection is closed (peer EOF, error, or our close completed).
    // Called once; the handler may destroy the connection only via
    // EventLoop::defer.
    virtual void on_disconnect() = 0;

   protected:
    ~Handler() = default;
  };

  enum class State { Open, Draining /*flushing then FIN*/, Lingering /*FIN sent*/, Closed };

  TcpConnection(EventLoop& loop, int fd);
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void start(Handler* handler);
  void set_handler(Handler* handler) { handler_ = handler; }

  // Queue bytes; they leave at the end of the loop iteration (corking).
  void send(std::string_view bytes);
  void send(SharedBytes bytes);

  // Graceful close: stop delivering input, flush, send FIN, wait briefly for
  // the peer's FIN so our last bytes are not lost to a reset, then close.
  void close_after_flush();
  // Immediate close (errors, timeouts). Pending output is dropped.
  void close_now();
  // Forget queued output the kernel has not started on (see
  // OutputQueue::drop_unstarted), e.g. to put a close frame next in line.
  std::size_t drop_unstarted_output() { return out_.drop_unstarted(); }

  State state() const { return state_; }
  bool is_open() const { return state_ == State::Open; }
  std::size_t pending_bytes() const { return out_.pending_bytes(); }
  int fd() const { return fd_; }

  // Releases the output queue's memory if nothing is pending (idle clients
  // hold no output buffer; busy ones keep theirs to avoid reallocating).
  void trim() {
    if (out_.empty()) out_.clear();
  }

  // Writes queued output now. Called by the loop's before-sleep hook.
  void flush() override;

  void on_io(uint32_t events) override;

 private:
  void read_some();
  void update_interest();
  void schedule_flush();
  void release();
  void finish_drain();

  EventLoop& loop_;
  int fd_;
  Handler* handler_ = nullptr;
  State state_ = State::Open;
  OutputQueue out_;
  bool want_write_ = false;       // EPOLLOUT registered
  bool flush_scheduled_ = false;  // on the loop's dirty list
  EventLoop::TimerId linger_timer_ = 0;
};

}  // namespace parley::net
