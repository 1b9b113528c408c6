// One client connection, from accept to close: it owns the byte stream
// (net::Stream: the socket, or an in-memory stream in tests) and the phase the
// connection is in, first HTTP, then, after an upgrade, WebSocket:
//
//   start() ──▶ HttpPhase ──upgrade──▶ WebSocketPhase
//                  │                        │
//                  └──── stream closed ─────┴──▶ retired (ConnectionList)
//
// It ends in exactly two ways: close(code, reason), graceful (the WebSocket
// close handshake, or an HTTP connection's FIN after its last response), and
// abort(), at once. Either way the stream reports on_disconnect, and the
// connection hands itself to its list, which destroys it after the current
// batch of events. Nothing else ends a connection.
//
// Output backpressure, for both phases (docs/SECURITY.md, "Connections and
// output"): every byte queued for the client counts (responses, pongs, close
// frames, chat), and while more than --soft-pending-output is queued the
// connection is not read from; reading resumes when the queue has drained.
// So requests that produce output cannot outrun a client that does not read.
//
// Touched only from its loop's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "app/connection_list.h"
#include "app/http_phase.h"
#include "app/peer.h"
#include "app/websocket_phase.h"
#include "net/stream.h"

namespace parley::app {

struct LoopContext;

class Connection final : public ConnectionList::Node, private net::Stream::Handler {
 public:
  // `peer`: who connected (tests and benchmarks may leave it empty: no
  // limits are counted for them).
  Connection(LoopContext& ctx, std::unique_ptr<net::Stream> stream, Peer peer = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts reading, in the HTTP phase. On failure the connection has ended
  // (and is retired) already.
  Status start();
  // Refused at accept (docs/SECURITY.md, "Connection caps"): sends
  // `response` without reading the request, then closes gracefully (the
  // stream discards the input meanwhile, so the client is not reset before
  // it read the answer). The connection never enters a phase.
  Status start_refused(std::string_view response);
  // Starts straight in the WebSocket phase, as if the upgrade had just been
  // answered: for tests and benchmarks that need no handshake.
  Status start_websocket(WebSocketService service, std::string room);

  // The two ways to end.
  void close(uint16_t code, std::string_view reason);
  void abort();

  // The loop's sweep: deadlines (HTTP budget, pings, idle, closing, slow consumer).
  void tick(net::Clock::time_point now);

  // For the phases.
  LoopContext& ctx() { return ctx_; }
  net::Stream& stream() { return *stream_; }
  Peer& peer() { return peer_; }
  bool output_over_limit() const;
  // Stops reading while output is over the limit; called after input was
  // handled and after output was queued from elsewhere (chat).
  void apply_backpressure();
  // How long output has been over the limit at `now` (zero when it is not).
  net::Clock::duration behind_for(net::Clock::time_point now) const;

  // The WebSocket phase, or null before the upgrade (tests and benchmarks).
  WebSocketPhase* websocket() { return std::get_if<WebSocketPhase>(&phase_); }

 private:
  // net::Stream::Handler
  void on_data(std::span<char> bytes) override;
  void on_drained() override;
  void on_disconnect() override;

  void after_http(std::optional<HttpUpgrade> upgrade);
  void enter_websocket(WebSocketService service, std::string room, std::span<char> early,
                       const std::optional<ws::DeflateParams>& deflate,
                       std::optional<auth::Claims> claims = std::nullopt);

  LoopContext& ctx_;
  Peer peer_;  // before the phases, which use its slot's rates
  std::unique_ptr<net::Stream> stream_;
  std::variant<std::monostate, HttpPhase, WebSocketPhase> phase_;
  net::Clock::time_point over_limit_since_{};
  bool ended_ = false;
  bool refused_ = false;  // started by start_refused
  net::Clock::time_point refused_until_{};
};

}  // namespace parley::app
