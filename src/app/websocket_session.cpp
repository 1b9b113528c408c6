#include "app/websocket_session.h"

#include <spdlog/spdlog.h>

#include "chat/json_session.h"
#include "chat/plain_text_session.h"
#include "ws/close_code.h"
#include "ws/frame_limits.h"
#include "ws/frame_writer.h"

namespace parley::app {

namespace {
ws::MessageEncoder::Options encoder_options(const Config& c) {
  return {.threshold = c.deflate_threshold};
}
}  // namespace

WebSocketSession::WebSocketSession(LoopContext& ctx, std::unique_ptr<net::TcpConnection> conn,
                                   Service service, std::string room,
                                   const std::optional<ws::DeflateParams>& deflate)
    : ctx_(ctx),
      conn_(std::move(conn)),
      endpoint_(ws::Endpoint::Role::Server,
                ws::Endpoint::Limits{.max_message_size = ctx.config.max_message_size}, *this),
      encoder_(deflate ? ws::MessageEncoder(*deflate, encoder_options(ctx.config))
                       : ws::MessageEncoder()),
      service_(service),
      last_input_(ctx.loop.now()) {
  if (deflate) endpoint_.enable_deflate(*deflate);
  SharedServices& s = ctx_.services;
  uint64_t id = s.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  if (service == Service::PlainChat) {
    uint64_t guest = s.next_guest.fetch_add(1, std::memory_order_relaxed);
    chat_ = std::make_unique<chat::PlainTextSession>(s.chat, ctx_.index, *this, std::move(room),
                                                     guest, s.run_tag, s.json_options);
  } else if (service == Service::JsonChat) {
    chat_ = std::make_unique<chat::JsonSession>(s.chat, ctx_.index, *this, s.identity,
                                                s.json_options, "s" + std::to_string(id));
  }
}

WebSocketSession::~WebSocketSession() = default;

void WebSocketSession::start(std::span<char> early_bytes) {
  ctx_.sessions.add(this);
  ctx_.stats.websocket_open.add();
  conn_->set_handler(this);
  if (chat_) chat_->start();
  if (!early_bytes.empty()) on_data(early_bytes);
}

void WebSocketSession::on_data(std::span<char> bytes) {
  last_input_ = ctx_.loop.now();
  ping_outstanding_ = false;
  endpoint_.feed(bytes);
}

void WebSocketSession::on_message(ws::Opcode op, std::string_view payload) {
  ctx_.stats.messages_received.add();
  if (service_ == Service::Echo) {
    // Header and payload go straight into the connection's output buffer
    // (they coalesce into one owned segment): no frame string per echo.
    const ws::MessageEncoder::Frame frame = encoder_.encode(op, payload);
    conn_->send(frame.header);
    conn_->send(frame.payload);
    return;
  }
  if (op != ws::Opcode::Text) {
    endpoint_.close(ws::close_code::UnsupportedData, "this chat takes text messages only");
    return;
  }
  chat_->on_text(payload);
}

void WebSocketSession::send(std::string_view frame_bytes) {
  conn_->send(frame_bytes);
}

void WebSocketSession::on_close(uint16_t code, std::string_view reason) {
  spdlog::debug("websocket closed: {} {}", code, reason);
  // Leave now, so the others hear of it without waiting for the TCP close.
  if (chat_) chat_->leave_all();
  conn_->close_after_flush();
}

namespace {
// Above this much queued output a client gets no typing or presence events:
// they are stale by the time it would read them, and chat messages matter more.
constexpr std::size_t kShedEphemeralAbove = 64 * 1024;
// A connection silent this long gives back its buffers (see trim()).
constexpr auto kTrimAfterSilence = std::chrono::seconds(1);
}  // namespace

void WebSocketSession::send_text(const SharedText& text, bool ephemeral) {
  if (dropping_ || endpoint_.state() != ws::Endpoint::State::Open || !conn_->is_open()) return;
  // Framed (and compressed when negotiated) once for every recipient that
  // can share it: ws::MessageEncoder caches the frames in the text's slots.
  queue_frame(encoder_.frame_for(*text), ephemeral);
}

void WebSocketSession::queue_frame(const SharedBytes& frame, bool ephemeral) {
  if (dropping_ || endpoint_.state() != ws::Endpoint::State::Open || !conn_->is_open()) return;
  std::size_t pending = conn_->pending_bytes();
  if (ephemeral && pending > kShedEphemeralAbove) return;
  if (pending + frame->size() > ctx_.config.max_pending_output) {
    drop_slow_consumer("hard output limit");
    return;
  }
  conn_->send(frame);
  if (conn_->pending_bytes() > ctx_.config.soft_pending_output &&
      over_soft_limit_since_ == net::Clock::time_point{}) {
    over_soft_limit_since_ = ctx_.loop.now();
  }
}

void WebSocketSession::drop_slow_consumer(const char* why) {
  // The client is not reading: what is queued for it would only grow. Forget
  // it (keeping a partly sent frame whole), put a close frame 1013 (try again
  // later) next in line for a client that wakes up, and let the closing
  // timeout cut the connection if it never does. A parley.v1 client then
  // resumes and fetches what it missed from history. Counted in the stats.
  dropping_ = true;
  ctx_.stats.slow_consumers_dropped.add();
  std::size_t dropped = conn_->drop_unstarted_output();
  spdlog::info("dropping slow consumer ({}): {} bytes discarded", why, dropped);
  endpoint_.close(ws::close_code::TryAgainLater, "slow consumer");
}

void WebSocketSession::close(uint16_t code, std::string_view reason) {
  endpoint_.close(code, reason);
}

void WebSocketSession::on_disconnect() {
  if (chat_) chat_->leave_all();
  finish();
}

void WebSocketSession::finish() {
  if (finished_) return;
  finished_ = true;
  ctx_.sessions.remove(this);
  ctx_.stats.websocket_open.sub();
  ctx_.loop.defer([this] { delete this; });
}

void WebSocketSession::tick(net::Clock::time_point now) {
  if (finished_) return;
  if (chat_ && endpoint_.state() == ws::Endpoint::State::Open) chat_->tick();
  const Config& c = ctx_.config;
  if (endpoint_.state() != ws::Endpoint::State::Open || !conn_->is_open()) {
    // Closing: the peer has the handshake timeout to answer our close frame
    // and let the TCP connection go.
    if (closing_since_ == net::Clock::time_point{}) closing_since_ = now;
    if (now - closing_since_ >= seconds(c.handshake_timeout)) conn_->close_now();
    return;
  }
  if (over_soft_limit_since_ != net::Clock::time_point{}) {
    if (conn_->pending_bytes() <= c.soft_pending_output) {
      over_soft_limit_since_ = {};
    } else if (now - over_soft_limit_since_ >= seconds(c.slow_consumer_seconds)) {
      drop_slow_consumer("soft output limit");
      return;
    }
  }
  auto silent = now - last_input_;
  if (silent >= kTrimAfterSilence) {
    endpoint_.trim();
    encoder_.trim();
    conn_->trim();
  }
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

void WebSocketSession::abort() {
  if (finished_) return;
  conn_->close_now();  // calls on_disconnect -> finish
  finish();
}

}  // namespace parley::app
