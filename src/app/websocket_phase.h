// A connection's WebSocket phase: runs the RFC 6455 endpoint (ws::Endpoint)
// over the connection's stream and connects it to a service: the seed's
// plain-text chat, the parley.v1 JSON chat, or echo (conformance tests).
//
// One way in for chat output: deliver() (through ChatLink), which applies the
// output limits. One way out: close(code) starts the close handshake; when it
// completes (or fails) on_close() closes the stream after flushing, and the
// Connection ends. Deadlines are checked by tick(): the closing timeout, the
// slow-consumer rule, pings and the idle timeout.
//
// Output limits (redis' client-output-buffer-limit; docs/SECURITY.md):
// - above 64 KiB queued, ephemeral chat events (typing, presence) are shed;
// - a chat frame that would take the queue over --max-pending-output, or a
//   queue over --soft-pending-output for --slow-consumer-seconds, drops the
//   client: its unsent output is discarded and a close 1013 queued;
// - the Connection stops reading while the queue is over the soft limit, so
//   output produced in answer to the client's input (pongs, echoes) cannot
//   grow past one read's worth beyond it.
//
// Input limits (docs/SECURITY.md, "Message bytes and inflation"): the
// endpoint reads at most what the service takes (message_limits below), and
// inflates at most --inflate-rate bytes a second: past it the rest of the
// read is held here, reading stops, and the sweep resumes it when the budget
// has refilled. Refusals (the chat's, and 1009 closes) are counted in the
// loop's stats and logged through the loop's rate-limited RefusalLog.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "app/chat_link.h"
#include "app/inflate_budget.h"
#include "app/routes.h"
#include "auth/jwt_claims.h"
#include "base/shared_text.h"
#include "chat/chat_session.h"
#include "net/clock.h"
#include "ws/deflate_negotiation.h"
#include "ws/endpoint.h"
#include "ws/message_encoder.h"

namespace parley::app {

class Connection;
struct Config;

// What a connection of `service` reads: /echo, --max-message-size; parley.v1,
// its largest valid request (Config::json_message_bytes; more closes 1009);
// plain text, --max-message-size, but a text over --max-text-bytes is
// skipped unread and answered with the seed's notice.
ws::Endpoint::Limits message_limits(const Config& config, WebSocketService service);

class WebSocketPhase final : public ws::Endpoint::Handler {
 public:
  // `deflate`: the permessage-deflate the handshake agreed on, if any.
  // `claims`: a token verified at the upgrade (`?token=`), for the chat session.
  WebSocketPhase(Connection& conn, WebSocketService service, std::string room,
                 const std::optional<ws::DeflateParams>& deflate,
                 std::optional<auth::Claims> claims = std::nullopt);
  ~WebSocketPhase() override;
  WebSocketPhase(const WebSocketPhase&) = delete;
  WebSocketPhase& operator=(const WebSocketPhase&) = delete;

  // `early_bytes`: frames that arrived together with the upgrade request.
  void start(std::span<char> early_bytes);
  void on_data(std::span<char> bytes);
  // The stream has closed: leave the chat now, so the others hear of it.
  void on_disconnect();
  void close(uint16_t code, std::string_view reason);
  void tick(net::Clock::time_point now);

  // Chat output for this client (see the limits above): a text shared by
  // many recipients, framed (and compressed) for this one; or a frame.
  void deliver_text(const SharedText& text, bool ephemeral);
  void deliver(const SharedBytes& frame, bool ephemeral);
  // What the chat session sends through (tests and benchmarks stand in for it).
  chat::ChatTransport& chat_transport() { return link_; }

  // ws::Endpoint::Handler
  void on_message(ws::Opcode op, std::string_view payload) override;
  void on_refused(ws::Opcode op) override;
  void send(std::string_view frame_bytes) override;
  void on_close(uint16_t code, std::string_view reason) override;

  // From the chat (through ChatLink): counted and logged.
  void on_chat_refusal(chat::Refused what);
  // Input is held until the inflate budget refills: reading stays paused.
  bool input_waiting() const { return input_waiting_; }

 private:
  bool open() const;
  void echo(ws::Opcode op, std::string_view payload);
  void drop_slow_consumer(const char* why);
  // The tick's steps; each returns true when it ended the connection's turn.
  bool check_closing(net::Clock::time_point now);
  bool check_slow_consumer(net::Clock::time_point now);
  void keep_alive(net::Clock::time_point now);
  // Feeds the endpoint within the inflate budget; holds what it could not.
  void feed(std::span<char> bytes);
  void resume_held_input(net::Clock::time_point now);
  void log_refusal(std::string_view what);

  Connection& conn_;
  ws::Endpoint endpoint_;
  ws::MessageEncoder encoder_;
  WebSocketService service_;
  ChatLink link_;
  std::unique_ptr<chat::ChatSession> chat_;  // null for echo
  net::Clock::time_point last_input_;
  net::Clock::time_point closing_since_{};
  bool ping_outstanding_ = false;
  bool dropping_ = false;  // slow consumer: close 1013 queued, nothing more
  InflateBudget inflate_budget_;
  // The rest of a read, waiting for the inflate budget; on the heap, as it
  // is rare and an idle connection should not carry an empty string.
  std::unique_ptr<std::string> held_input_;
  bool input_waiting_ = false;
};

}  // namespace parley::app
