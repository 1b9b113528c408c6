// One accepted TCP connection on one event loop: the Stream over a socket.
// Non-blocking reads into the loop's shared read buffer, a corked output
// queue, reading paused on request (output backpressure), and an orderly
// close. It knows nothing of HTTP or WebSocket (see net/stream.h for the
// contract every stream keeps).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "net/event_loop.h"
#include "net/output_queue.h"
#include "net/stream.h"

namespace parley::net {

class TcpConnection final : public Stream, public IoHandler, public Corked {
 public:
  // Takes ownership of `fd` (connected, non-blocking).
  TcpConnection(EventLoop& loop, int fd);
  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Stream
  Status start(Handler& handler) override;
  void send(std::string_view bytes) override;
  void send(SharedBytes bytes) override;
  std::size_t pending_bytes() const override { return out_.pending_bytes(); }
  std::size_t drop_unstarted_output() override { return out_.drop_unstarted(); }
  void pause_reading() override;
  void resume_reading() override;
  bool reading_paused() const override { return paused_; }
  void close_after_flush() override;
  void close_now() override;
  State state() const override { return state_; }
  void trim() override {
    if (out_.empty()) out_.clear();
  }

  // Corked: writes queued output now (the loop's before-sleep flush).
  void flush() override;
  // IoHandler
  void on_io(uint32_t events) override;

 private:
  bool wants_input() const { return !(state_ == State::Open && paused_); }
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
  uint32_t interest_ = 0;         // the EPOLL* flags registered now
  bool paused_ = false;           // pause_reading() in force
  bool flush_scheduled_ = false;  // on the loop's cork list
  EventLoop::TimerId linger_timer_ = 0;
};

}  // namespace parley::net
