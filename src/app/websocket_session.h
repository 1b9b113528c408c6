// A connection after the WebSocket upgrade: runs the RFC 6455 endpoint over
// the TCP connection and connects it to a service: the seed's plain-text chat,
// the parley.v1 JSON chat, or echo (conformance testing).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "app/server_context.h"
#include "app/session.h"
#include "base/shared_text.h"
#include "chat/chat_session.h"
#include "net/tcp_connection.h"
#include "ws/deflate_negotiation.h"
#include "ws/endpoint.h"
#include "ws/message_encoder.h"

namespace parley::app {

class WebSocketSession final : public Session,
                               public net::TcpConnection::Handler,
                               public ws::Endpoint::Handler,
                               public chat::ChatTransport {
 public:
  enum class Service { PlainChat, JsonChat, Echo };

  // `deflate`: the permessage-deflate the handshake agreed on, if any.
  WebSocketSession(LoopContext& ctx, std::unique_ptr<net::TcpConnection> conn, Service service,
                   std::string room,
                   const std::optional<ws::DeflateParams>& deflate = std::nullopt);
  ~WebSocketSession() override;
  // `early_bytes`: frames that arrived together with the HTTP request.
  void start(std::span<char> early_bytes);

  // net::TcpConnection::Handler
  void on_data(std::span<char> bytes) override;
  void on_disconnect() override;

  // ws::Endpoint::Handler
  void on_message(ws::Opcode op, std::string_view payload) override;
  void send(std::string_view frame_bytes) override;
  void on_close(uint16_t code, std::string_view reason) override;

  // chat::ChatTransport
  // A text shared by many recipients, framed (and compressed) for this one.
  void send_text(const SharedText& text, bool ephemeral) override;
  void close(uint16_t code, std::string_view reason) override;

  // Session
  void tick(net::Clock::time_point now) override;
  void shutdown() override;
  void abort() override;

 private:
  void finish();
  void queue_frame(const SharedBytes& frame, bool ephemeral);
  void drop_slow_consumer(const char* why);

  LoopContext& ctx_;
  std::unique_ptr<net::TcpConnection> conn_;
  ws::Endpoint endpoint_;
  ws::MessageEncoder encoder_;
  Service service_;
  std::unique_ptr<chat::ChatSession> chat_;
  net::Clock::time_point last_input_;
  net::Clock::time_point closing_since_{};
  net::Clock::time_point over_soft_limit_since_{};
  bool ping_outstanding_ = false;
  bool finished_ = false;
  bool dropping_ = false;  // slow consumer, close scheduled
};

}  // namespace parley::app
