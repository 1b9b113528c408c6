// The byte stream under a connection: what the HTTP and WebSocket phases read
// from and write to, without knowing what carries the bytes.
//
// TcpConnection is the socket. Tests and the whole-server fuzz target put an
// in-memory stream here (tests/support/memory_stream.h), which can make any
// step fail. Native TLS (issue 9) will be a Stream that owns another one: it is
// that stream's Handler, decrypts in on_data, encrypts in send, reports its
// own buffered bytes plus the inner stream's as pending, and forwards pause,
// resume, drain and disconnect. The phases above never learn the difference.
//
// Contract, for every implementation:
// - Bytes are delivered through Handler::on_data only while reading is not
//   paused and the stream is Open. The span may be modified in place (the
//   WebSocket layer unmasks there) and is valid only during the call.
// - send() queues; the bytes leave later (at the end of the loop iteration).
//   Nothing is queued once the stream is no longer Open.
// - pending_bytes() counts every byte queued and not yet taken by the
//   transport, whatever queued it.
// - pause_reading() stops input; Handler::on_drained is called when the
//   output queue has emptied while reading is paused (even when it already
//   was empty), as the last thing the stream does in that call. The handler
//   decides whether to resume_reading().
// - Handler::on_disconnect is called exactly once, when the stream is Closed
//   (peer EOF or reset, an I/O error, close_now(), or a graceful close that
//   completed), as the stream's last action in that call. After it the stream
//   does nothing but may still be queried; it is destroyed by its owner, never
//   from inside a Handler callback.
// - Not thread-safe: a stream is touched only from its loop's thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "base/result.h"
#include "base/shared_text.h"

namespace parley::net {

class Stream {
 public:
  class Handler {
   public:
    virtual void on_data(std::span<char> bytes) = 0;
    virtual void on_drained() = 0;
    virtual void on_disconnect() = 0;

   protected:
    ~Handler() = default;
  };

  enum class State {
    Open,
    Draining,   // close_after_flush(): output still leaving, input discarded
    Lingering,  // our FIN is sent; waiting briefly for the peer's
    Closed,
  };

  virtual ~Stream() = default;

  // Starts delivering events to `handler`. Fails when the stream cannot be
  // watched (the kernel is out of memory or epoll watches): the caller drops it.
  virtual Status start(Handler& handler) = 0;

  // Queue bytes (copied) or a shared frame (referenced, never copied).
  virtual void send(std::string_view bytes) = 0;
  virtual void send(SharedBytes bytes) = 0;
  virtual std::size_t pending_bytes() const = 0;
  // Forgets queued output the transport has not started on, keeping a partly
  // written piece whole so the byte stream stays well-formed. Returns the
  // bytes dropped.
  virtual std::size_t drop_unstarted_output() = 0;

  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual bool reading_paused() const = 0;

  // Graceful: stop delivering input, flush, end the stream (FIN), wait briefly
  // for the peer's end so our last bytes are not lost to a reset, then close.
  virtual void close_after_flush() = 0;
  // Immediate (an abort): pending output is dropped. (A socket is reset by
  // the kernel when input we never read is waiting: a flooder we had stopped
  // reading gets a reset, not a polite FIN.)
  virtual void close_now() = 0;
  virtual State state() const = 0;
  bool is_open() const { return state() == State::Open; }

  // Gives back buffer memory when nothing is pending (an idle client holds none).
  virtual void trim() = 0;
};

}  // namespace parley::net
