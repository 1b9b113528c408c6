// An in-memory net::Stream for tests and the whole-server fuzz target: the
// test plays the peer, and can make any I/O step fail (Boost.Beast's
// test::stream with its fail_count, the idea behind it).
//
//   server side                         test side
//   Connection ── MemoryStream ──wire── MemoryPeer
//     send() queues ─▶ pump() moves at most `window` bytes onto the wire ─▶ read()
//     on_data() ◀── deliver() hands what write() queued, in reads of `max_read`
//
// Nothing happens behind the test's back: bytes move only in pump() and
// deliver() (read() and write() call them), so every interleaving a test or
// the fuzzer wants is reachable, deterministically.
//
// Fault injection: every step that would be a system call on a socket
// (start, each read handed up, each write onto the wire) is counted; with
// `fail_at = n` the n-th one fails like a socket error: the stream closes and
// reports on_disconnect. Run a scenario with n = 1, 2, 3... until it passes
// without reaching n, and every step has failed once.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "net/stream.h"

namespace parley::testing {

class MemoryStream;

class MemoryPeer {
 public:
  struct Options {
    std::size_t window = 256 * 1024;   // bytes the wire holds before the server's writes stop
    std::size_t max_read = 64 * 1024;  // bytes handed to on_data at once
    std::size_t fail_at = 0;           // the n-th I/O step fails; 0 = none
  };

  explicit MemoryPeer(Options options);
  ~MemoryPeer();
  MemoryPeer(const MemoryPeer&) = delete;
  MemoryPeer& operator=(const MemoryPeer&) = delete;

  // The server's end; call once. The peer outlives it.
  std::unique_ptr<net::Stream> make_stream();

  // Queues bytes for the server and delivers what it will take now.
  void write(std::string_view bytes);
  // Hands queued input to the server while it reads.
  void deliver();
  // Moves the server's queued output onto the wire (as its loop's flush would).
  void pump();
  // pump(), then takes everything on the wire, and pumps again.
  std::string read();
  // The peer ends its side (FIN) or fails (reset).
  void close();
  void reset();
  // The server's linger timer fires (it waited long enough for our FIN).
  void expire_linger();

  bool server_exists() const { return stream_ != nullptr; }
  net::Stream::State server_state() const;
  bool fin_received() const { return fin_; }           // the server ended its side
  bool aborted_by_server() const { return aborted_; }  // close_now: a reset
  bool failed() const { return failed_; }              // fail_at was reached
  std::size_t steps() const { return steps_; }         // I/O steps so far
  std::size_t unread_input() const { return inbound_.size(); }
  std::size_t server_pending() const;  // bytes the server has queued
  std::size_t wire_bytes() const { return wire_.size(); }

 private:
  friend class MemoryStream;
  // Counts one I/O step; true when it is the one that must fail.
  bool step_fails();

  Options options_;
  MemoryStream* stream_ = nullptr;
  std::string inbound_;  // written by the peer, not yet handed up
  std::string wire_;     // written by the server, not yet read by the peer
  std::size_t steps_ = 0;
  bool peer_closed_ = false;
  bool fin_ = false;
  bool aborted_ = false;
  bool failed_ = false;
};

class MemoryStream final : public net::Stream {
 public:
  explicit MemoryStream(MemoryPeer& peer) : peer_(&peer) {}
  ~MemoryStream() override;

  Status start(Handler& handler) override;
  void send(std::string_view bytes) override;
  void send(SharedBytes bytes) override;
  std::size_t pending_bytes() const override { return pending_; }
  std::size_t drop_unstarted_output() override;
  void pause_reading() override;
  void resume_reading() override;
  bool reading_paused() const override { return paused_; }
  void close_after_flush() override;
  void close_now() override;
  State state() const override { return state_; }
  void trim() override {}

 private:
  friend class MemoryPeer;
  void fail();
  void close(bool reset);
  // After output was written: drain notice, FIN.
  void after_write();

  MemoryPeer* peer_;
  Handler* handler_ = nullptr;
  State state_ = State::Open;
  std::deque<std::string> queue_;  // output; the front may be partly written
  std::size_t front_offset_ = 0;
  std::size_t pending_ = 0;
  bool paused_ = false;
  bool delivering_ = false;
};

}  // namespace parley::testing
