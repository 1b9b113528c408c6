// One client WebSocket connection of the load generator, on one event loop:
// non-blocking connect (optionally from a chosen loopback source address),
// the opening handshake, then ws::Endpoint in the Client role for framing,
// masking, pongs and the close handshake.
//
// Why ws::Endpoint and not a lighter read-only parser: perf on a broadcast to
// 1000 members at 100k deliveries/s puts 89% of the bench's CPU in the kernel
// (read() 72%, two thirds of it the ACK each read sends and its loopback
// processing; epoll_wait 15%), 9% in the bench's own code, and only 3% in
// frame parsing and UTF-8 checks: a lighter parser could not save more. Server
// frames are unmasked, so a frame that arrives whole reaches on_text as a view
// into the read buffer, with no copy.
//
// Not thread-safe: created, used and destroyed on its loop's thread. The
// owner destroys it only through EventLoop::defer once on_closed was called,
// or after the loop stopped.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "load/ws_target.h"
#include "net/event_loop.h"
#include "net/tcp_connection.h"
#include "ws/endpoint.h"

namespace parley::bench {

class WsClient final : net::Stream::Handler, ws::Endpoint::Handler {
 public:
  class Events {
   public:
    // The server accepted the upgrade.
    virtual void on_open(WsClient& client) = 0;
    // A text message; `received_ns` is the steady clock when its bytes were read.
    virtual void on_text(WsClient& client, std::string_view payload, int64_t received_ns) = 0;
    // Called once when the client is finished, whether it ever opened or not
    // (refused, handshake rejected, timed out, closed by either side).
    virtual void on_closed(WsClient& client, std::string_view why) = 0;

   protected:
    ~Events() = default;
  };

  enum class State { Connecting, Open, Closing, Closed };

  // `id` is the owner's number for this client (it is never interpreted here).
  WsClient(net::EventLoop& loop, const WsTarget& target, Events& events, uint32_t id);
  ~WsClient() override;
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Starts connecting and queues the upgrade request. `source`, when set, is
  // bound first (without a port, IP_BIND_ADDRESS_NO_PORT, so the kernel picks
  // the port per destination). Gives up after `timeout` without a 101. An
  // error here (no socket, no port) is returned and on_closed is not called.
  std::string connect(const in_addr* source, net::Clock::duration timeout);

  // Offers `protocol` in Sec-WebSocket-Protocol; a 101 that does not select
  // it then fails the client ("server did not select ..."). Before connect().
  void require_subprotocol(std::string protocol);
  // Requests `path` instead of the target's (idle --rooms: a room per path).
  // Call before connect().
  void set_path(std::string path) { path_ = std::move(path); }
  // Offers permessage-deflate as a browser does; if the 101 accepts it, the
  // server's compressed messages are inflated (ours go uncompressed, which
  // RFC 7692 allows). Before connect().
  void offer_deflate() { offer_deflate_ = true; }

  // A masked text frame, written at the end of the loop iteration (corked).
  void send_text(std::string_view payload);
  // Starts the close handshake (code 1000); on_closed follows.
  void close();

  uint32_t id() const { return id_; }
  State state() const { return state_; }
  bool is_open() const { return state_ == State::Open; }
  // True once the handshake succeeded, even after the connection closed.
  bool has_opened() const { return has_opened_; }
  int64_t connect_started_ns() const { return connect_started_ns_; }

 private:
  // net::Stream::Handler
  void on_data(std::span<char> bytes) override;
  void on_drained() override {}  // never paused
  void on_disconnect() override;
  // ws::Endpoint::Handler
  void on_message(ws::Opcode op, std::string_view payload) override;
  void send(std::string_view frame_bytes) override;
  void on_close(uint16_t code, std::string_view reason) override;

  void on_handshake_bytes(std::span<char> bytes);
  void fail(std::string why);

  net::EventLoop& loop_;
  const WsTarget& target_;
  Events& events_;
  uint32_t id_;
  State state_ = State::Connecting;
  bool has_opened_ = false;
  bool offer_deflate_ = false;
  uint32_t mask_state_;  // xorshift32, see send_text
  int64_t connect_started_ns_ = 0;
  int64_t read_ns_ = 0;  // when the bytes being fed were read
  net::EventLoop::TimerId timeout_timer_ = 0;
  std::unique_ptr<net::TcpConnection> conn_;
  std::string key_;
  std::vector<std::string> protocols_;  // offered; empty: none
  std::string path_;                    // empty: the target's
  std::string response_head_;           // the 101 gathered until its empty line
  std::string close_reason_;
  ws::Endpoint endpoint_;
};

// The steady clock in nanoseconds, the unit of every stamp and latency.
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(net::Clock::now().time_since_epoch())
      .count();
}

}  // namespace parley::bench
