#include "app/websocket_session.h"

#include <spdlog/spdlog.h>

#include "ws/close_code.h"
#include "ws/frame_writer.h"

namespace parley::app {

WebSocketSession::WebSocketSession(ServerContext& ctx, std::unique_ptr<net::TcpConnection> conn,
                                   Service service, std::string room)
    : ctx_(ctx),
      conn_(std::move(conn)),
      endpoint_(ws::Endpoint::Role::Server,
                ws::Endpoint::Limits{.max_message_size = ctx.config.max_message_size}, *this),
      service_(service),
      room_name_(std::move(room)),
      last_input_(ctx.loop.now()) {}

void WebSocketSession::start(std::span<char> early_bytes) {
  ctx_.sessions.add(this);
  conn_->set_handler(this);
  if (service_ == Service::Chat) room_ = &ctx_.plain_chat.join(*this, room_name_);
  if (!early_bytes.empty()) on_data(early_bytes);
}

void WebSocketSession::on_data(std::span<char> bytes) {
  last_input_ = ctx_.loop.now();
  ping_outstanding_ = false;
  endpoint_.feed(bytes);
}

void WebSocketSession::on_message(ws::Opcode op, std::string_view payload) {
  ++ctx_.stats.messages_received;
  if (service_ == Service::Echo) {
    std::string frame;
    ws::append_frame(frame, op, payload);
    conn_->send(frame);
    return;
  }
  if (op != ws::Opcode::Text) {
    endpoint_.close(ws::close_code::UnsupportedData, "this chat takes text messages only");
    return;
  }
  if (room_ != nullptr) ctx_.plain_chat.message(*room_, *this, payload);
}

void WebSocketSession::send(std::string_view frame_bytes) { conn_->send(frame_bytes); }

void WebSocketSession::on_close(uint16_t code, std::string_view reason) {
  spdlog::debug("websocket closed: {} {}", code, reason);
  leave_room();
  conn_->close_after_flush();
}

void WebSocketSession::deliver(const chat::SharedFrame& frame) {
  if (endpoint_.state() != ws::Endpoint::State::Open || !conn_->is_open()) return;
  if (conn_->pending_bytes() + frame->size() > ctx_.config.max_pending_output) {
    // A reader this far behind would cost us memory without bound: drop it.
    ++ctx_.stats.slow_consumers_dropped;
    spdlog::info("dropping slow consumer ({} bytes pending)", conn_->pending_bytes());
    leave_room();
    conn_->close_now();
    return;
  }
  conn_->send(frame);
}

void WebSocketSession::leave_room() {
  if (room_ == nullptr) return;
  chat::Room* room = room_;
  room_ = nullptr;
  ctx_.plain_chat.leave(*room, *this);
}

void WebSocketSession::on_disconnect() {
  leave_room();
  finish();
}

void WebSocketSession::finish() {
  if (finished_) return;
  finished_ = true;
  ctx_.sessions.remove(this);
  ctx_.loop.defer([this] { delete this; });
}

void WebSocketSession::tick(net::Clock::time_point now) {
  if (finished_) return;
  const Config& c = ctx_.config;
  if (endpoint_.state() != ws::Endpoint::State::Open || !conn_->is_open()) {
    // Closing: the peer has the handshake timeout to answer our close frame
    // and let the TCP connection go.
    if (closing_since_ == net::Clock::time_point{}) closing_since_ = now;
    if (now - closing_since_ >= seconds(c.handshake_timeout)) conn_->close_now();
    return;
  }
  auto silent = now - last_input_;
  if (silent >= seconds(c.idle_timeout)) {
    endpoint_.close(ws::close_code::GoingAway, "idle timeout");
  } else if (silent >= seconds(c.ping_interval) && !ping_outstanding_) {
    ping_outstanding_ = true;
    std::string ping;
    ws::append_frame(ping, ws::Opcode::Ping, {});
    conn_->send(ping);
  }
}

void WebSocketSession::shutdown() {
  if (finished_) return;
  if (endpoint_.state() == ws::Endpoint::State::Open) {
    endpoint_.close(ws::close_code::GoingAway, "server shutting down");
  } else {
    conn_->close_after_flush();
  }
}

}  // namespace parley::app
