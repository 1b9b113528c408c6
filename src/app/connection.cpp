#include "app/connection.h"

#include <spdlog/spdlog.h>

#include "app/server_context.h"

namespace parley::app {

Connection::Connection(LoopContext& ctx, std::unique_ptr<net::Stream> stream, Peer peer)
    : ctx_(ctx), peer_(std::move(peer)), stream_(std::move(stream)) {}

Connection::~Connection() {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  // The phase goes before the stream it uses.
  phase_.emplace<std::monostate>();
  if (refused_) --ctx_.refusing;
}

Status Connection::start() {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  phase_.emplace<HttpPhase>(*this);
  Status started = stream_->start(*this);
  if (!started) {
    spdlog::warn("dropping a new connection: {}", started.error().message);
    abort();
  }
  return started;
}

Status Connection::start_refused(std::string_view response) {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  refused_ = true;
  refused_until_ = ctx_.loop.now() + seconds(ctx_.config.handshake_timeout);
  ++ctx_.refusing;
  Status started = stream_->start(*this);
  if (!started) {
    abort();
    return started;
  }
  stream_->send(response);
  stream_->close_after_flush();
  return started;
}

Status Connection::start_websocket(WebSocketService service, std::string room) {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  Status started = stream_->start(*this);
  if (!started) {
    abort();
    return started;
  }
  enter_websocket(service, std::move(room), {}, std::nullopt);
  return started;
}

void Connection::on_data(std::span<char> bytes) {
  if (auto* http = std::get_if<HttpPhase>(&phase_)) {
    after_http(http->on_data(bytes));
  } else if (auto* ws = std::get_if<WebSocketPhase>(&phase_)) {
    ws->on_data(bytes);
  }
  apply_backpressure();
}

void Connection::on_drained() {
  over_limit_since_ = {};
  // Backend API: input stays paused while a request waits for its answer.
  if (auto* http = std::get_if<HttpPhase>(&phase_); http != nullptr && http->awaiting_api()) {
    return;
  }
  // WebSocket input held for the inflate budget: the phase resumes it.
  if (auto* ws = std::get_if<WebSocketPhase>(&phase_); ws != nullptr && ws->input_waiting()) {
    return;
  }
  stream_->resume_reading();
  if (auto* http = std::get_if<HttpPhase>(&phase_)) after_http(http->on_drained());
  apply_backpressure();
}

void Connection::after_http(std::optional<HttpUpgrade> upgrade) {
  if (!upgrade) return;
  // The HTTP phase is over: it is destroyed here, after it returned.
  HttpUpgrade up = std::move(*upgrade);
  enter_websocket(up.service, std::move(up.room),
                  std::span<char>(up.early_bytes.data(), up.early_bytes.size()), up.deflate,
                  std::move(up.claims));
}

void Connection::enter_websocket(WebSocketService service, std::string room, std::span<char> early,
                                 const std::optional<ws::DeflateParams>& deflate,
                                 std::optional<auth::Claims> claims) {
  phase_.emplace<WebSocketPhase>(*this, service, std::move(room), deflate, std::move(claims))
      .start(early);
}

bool Connection::output_over_limit() const {
  return stream_->pending_bytes() > ctx_.config.soft_pending_output;
}

void Connection::apply_backpressure() {
  if (!output_over_limit() || !stream_->is_open()) return;
  if (over_limit_since_ == net::Clock::time_point{}) over_limit_since_ = ctx_.loop.now();
  if (stream_->reading_paused()) return;
  stream_->pause_reading();
  ctx_.stats.reading_paused.add();
}

net::Clock::duration Connection::behind_for(net::Clock::time_point now) const {
  if (over_limit_since_ == net::Clock::time_point{}) return {};
  return now - over_limit_since_;
}

void Connection::close(uint16_t code, std::string_view reason) {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  if (ended_) return;
  if (auto* ws = std::get_if<WebSocketPhase>(&phase_)) {
    ws->close(code, reason);
  } else {
    stream_->close_after_flush();
  }
}

void Connection::abort() {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  if (ended_) return;
  stream_->close_now();  // reports on_disconnect, unless it was closed already
  on_disconnect();
}

void Connection::on_disconnect() {
  if (ended_) return;
  ended_ = true;
  if (auto* ws = std::get_if<WebSocketPhase>(&phase_)) ws->on_disconnect();
  ctx_.connections.retire(*this);
}

void Connection::tick(net::Clock::time_point now) {
  PARLEY_ASSERT_LOOP_THREAD(ctx_.loop);
  if (ended_) return;
  if (refused_ && now >= refused_until_) {
    abort();  // a client that does not even read its refusal
    return;
  }
  if (!output_over_limit()) over_limit_since_ = {};
  if (auto* http = std::get_if<HttpPhase>(&phase_)) {
    http->tick(now);
  } else if (auto* ws = std::get_if<WebSocketPhase>(&phase_)) {
    ws->tick(now);
  }
}

}  // namespace parley::app
