#include "app/websocket_phase.h"

#include <spdlog/spdlog.h>

#include "app/connection.h"
#include "app/server_context.h"
#include "chat/json_session.h"
#include "chat/plain_text_session.h"
#include "chat/redis_guests.h"
#include "ws/close_code.h"
#include "ws/frame_limits.h"
#include "ws/frame_writer.h"

namespace parley::app {
namespace {

// Above this much queued output a client gets no typing or presence events:
// they are stale by the time it would read them, and chat messages matter more.
constexpr std::size_t kShedEphemeralAbove = 64 * 1024;
// A connection silent this long gives back its buffers (see trim()).
constexpr auto kTrimAfterSilence = std::chrono::seconds(1);

std::unique_ptr<chat::ChatSession> make_chat(LoopContext& ctx, WebSocketService service,
                                             ChatLink& link, std::string room,
                                             std::optional<auth::Claims> claims) {
  SharedServices& s = ctx.services;
  if (service == WebSocketService::PlainChat) {
    uint64_t guest = s.guests != nullptr ? s.guests->next()  // redis: across nodes
                                         : s.next_guest.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<chat::PlainTextSession>(s.chat, ctx.index, link, std::move(room), guest,
                                                    s.run_tag, s.json_options, std::move(claims));
  }
  if (service == WebSocketService::JsonChat) {
    uint64_t id = s.next_connection_id.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<chat::JsonSession>(s.chat, ctx.index, link, s.identity, s.json_options,
                                               "s" + std::to_string(id), std::move(claims));
  }
  return nullptr;
}

ws::MessageEncoder::Options encoder_options(const Config& c) {
  return {.threshold = c.deflate_threshold};
}

const char* refusal_name(chat::Refused what) {
  switch (what) {
    case chat::Refused::RateLimited:
      return "rate limited";
    case chat::Refused::ByteRate:
      return "over its byte rate";
    case chat::Refused::TextTooLong:
      return "text too long";
    case chat::Refused::RoomLimit:
      return "room limit";
    case chat::Refused::kCount:
      break;
  }
  return "refused";
}

}  // namespace

ws::Endpoint::Limits message_limits(const Config& c, WebSocketService service) {
  switch (service) {
    case WebSocketService::JsonChat:
      return {.max_message_size = c.json_message_bytes()};
    case WebSocketService::PlainChat:
      return {.max_message_size = c.max_message_size,
              .refuse_above = std::min(c.max_text_bytes, c.max_message_size)};
    default:
      return {.max_message_size = c.max_message_size};
  }
}

WebSocketPhase::WebSocketPhase(Connection& conn, WebSocketService service, std::string room,
                               const std::optional<ws::DeflateParams>& deflate,
                               std::optional<auth::Claims> claims)
    : conn_(conn),
      endpoint_(ws::Endpoint::Role::Server, message_limits(conn.ctx().config, service), *this),
      encoder_(deflate ? ws::MessageEncoder(*deflate, encoder_options(conn.ctx().config))
                       : ws::MessageEncoder()),
      service_(service),
      link_(*this),
      chat_(make_chat(conn.ctx(), service, link_, std::move(room), std::move(claims))),
      last_input_(conn.ctx().loop.now()),
      inflate_budget_(conn.ctx().config.inflate_rate) {
  if (deflate) endpoint_.enable_deflate(*deflate);
  // Edge: the chat rates this client's address shares with its other connections.
  if (chat_ && conn.peer().slot) {
    AddressTable::Slot& slot = *conn.peer().slot;
    chat_->share_rate_with_address(&slot.message_rate(), &slot.byte_rate());
  }
  conn_.ctx().stats.websocket_open.add();
}

WebSocketPhase::~WebSocketPhase() {
  conn_.ctx().stats.websocket_open.sub();
}

void WebSocketPhase::start(std::span<char> early_bytes) {
  if (chat_) chat_->start();
  if (!early_bytes.empty()) on_data(early_bytes);
}

bool WebSocketPhase::open() const {
  return endpoint_.state() == ws::Endpoint::State::Open && conn_.stream().is_open();
}

void WebSocketPhase::on_data(std::span<char> bytes) {
  last_input_ = conn_.ctx().loop.now();
  ping_outstanding_ = false;
  if (input_waiting_) {
    // Not expected (reading is paused), but keep the order if it happens.
    if (!held_input_) held_input_ = std::make_unique<std::string>();
    held_input_->append(bytes.data(), bytes.size());
    conn_.stream().pause_reading();
    return;
  }
  feed(bytes);
}

void WebSocketPhase::feed(std::span<char> bytes) {
  if (inflate_budget_.unlimited()) {
    endpoint_.feed(bytes);
    return;
  }
  const net::Clock::time_point now = conn_.ctx().loop.now();
  const uint64_t before = endpoint_.inflated_bytes();
  const uint64_t available = inflate_budget_.available(now);
  std::size_t used = 0;
  if (available > 0) {
    endpoint_.set_inflate_allowance(before + available);
    used = endpoint_.feed(bytes);
  }
  const uint64_t inflated = endpoint_.inflated_bytes() - before;
  inflate_budget_.spend(inflated);
  conn_.ctx().stats.inflated_bytes.add(inflated);
  if (used == bytes.size() && !endpoint_.inflate_allowance_spent()) return;
  if (endpoint_.state() == ws::Endpoint::State::Closed) return;
  // Over budget: the rest waits (at most one read), and so does the socket.
  held_input_ = std::make_unique<std::string>(bytes.data() + used, bytes.size() - used);
  if (!input_waiting_) conn_.ctx().stats.inflate_waits.add();
  input_waiting_ = true;
  conn_.stream().pause_reading();
}

void WebSocketPhase::resume_held_input(net::Clock::time_point now) {
  if (inflate_budget_.available(now) == 0) return;
  input_waiting_ = false;
  const std::unique_ptr<std::string> held = std::move(held_input_);
  if (held && !held->empty()) feed(std::span<char>(held->data(), held->size()));
  if (input_waiting_ || !conn_.stream().is_open()) return;
  // Reading resumes unless the output is what holds it back (it resumes
  // when that drains).
  if (!conn_.output_over_limit()) conn_.stream().resume_reading();
  conn_.apply_backpressure();
}

void WebSocketPhase::on_message(ws::Opcode op, std::string_view payload) {
  conn_.ctx().stats.messages_received.add();
  if (service_ == WebSocketService::Echo) {
    echo(op, payload);
  } else if (op != ws::Opcode::Text) {
    endpoint_.close(ws::close_code::UnsupportedData, "this chat takes text messages only");
  } else {
    chat_->on_text(payload);
  }
}

void WebSocketPhase::on_refused(ws::Opcode op) {
  // Only plain-text chat connections refuse messages (message_limits).
  if (op != ws::Opcode::Text || !chat_) {
    endpoint_.close(ws::close_code::UnsupportedData, "this chat takes text messages only");
    return;
  }
  chat_->on_text_too_long();
}

void WebSocketPhase::on_chat_refusal(chat::Refused what) {
  const auto i = static_cast<std::size_t>(what);
  if (i < conn_.ctx().stats.chat_refusals.size()) conn_.ctx().stats.chat_refusals[i].add();
  log_refusal(refusal_name(what));
}

void WebSocketPhase::log_refusal(std::string_view what) {
  LoopContext& ctx = conn_.ctx();
  const std::optional<uint64_t> skipped = ctx.refusal_log.admit(ctx.loop.now());
  if (!skipped) return;
  const Peer& peer = conn_.peer();
  const std::string who = peer.client.to_string();
  if (*skipped == 0) {
    spdlog::info("{}: refused, {}", who, what);
  } else {
    spdlog::info("{}: refused, {} ({} refusal lines skipped)", who, what, *skipped);
  }
}

void WebSocketPhase::echo(ws::Opcode op, std::string_view payload) {
  // Header and payload go straight into the connection's output buffer (they
  // coalesce into one owned segment): no frame string per echo.
  const ws::MessageEncoder::Frame frame = encoder_.encode(op, payload);
  conn_.stream().send(frame.header);
  conn_.stream().send(frame.payload);
}

void WebSocketPhase::send(std::string_view frame_bytes) {
  conn_.stream().send(frame_bytes);
}

void WebSocketPhase::on_close(uint16_t code, std::string_view reason) {
  spdlog::debug("websocket closed: {} {}", code, reason);
  if (endpoint_.failed_with() == ws::close_code::MessageTooBig) {
    conn_.ctx().stats.messages_too_big.add();
    log_refusal("message too big, closed 1009");
  }
  // Leave now, so the others hear of it without waiting for the TCP close.
  if (chat_) chat_->leave_all();
  conn_.stream().close_after_flush();
}

void WebSocketPhase::on_disconnect() {
  if (chat_) chat_->leave_all();
}

void WebSocketPhase::close(uint16_t code, std::string_view reason) {
  if (code == ws::close_code::PolicyViolation && open()) {
    conn_.ctx().stats.policy_closes.add();
    log_refusal(std::string("closed 1008, ") + std::string(reason));
  }
  endpoint_.close(code, reason);
}

void WebSocketPhase::deliver_text(const SharedText& text, bool ephemeral) {
  if (dropping_ || !open()) return;
  // Framed (and compressed when negotiated) once for every recipient that
  // can share it: ws::MessageEncoder caches the frames in the text's slots.
  deliver(encoder_.frame_for(*text), ephemeral);
}

void WebSocketPhase::deliver(const SharedBytes& frame, bool ephemeral) {
  if (dropping_ || !open()) return;
  std::size_t pending = conn_.stream().pending_bytes();
  if (ephemeral && pending > kShedEphemeralAbove) return;
  if (pending + frame->size() > conn_.ctx().config.max_pending_output) {
    drop_slow_consumer("hard output limit");
    return;
  }
  conn_.stream().send(frame);
  conn_.apply_backpressure();
}

void WebSocketPhase::drop_slow_consumer(const char* why) {
  // The client is not reading: what is queued for it would only grow. Forget
  // it (keeping a partly sent frame whole), put a close frame 1013 (try again
  // later) next in line for a client that wakes up, and let the closing
  // timeout cut the connection if it never does. A parley.v1 client then
  // resumes and fetches what it missed from history. Counted in the stats.
  dropping_ = true;
  conn_.ctx().stats.slow_consumers_dropped.add();
  std::size_t dropped = conn_.stream().drop_unstarted_output();
  spdlog::info("dropping slow consumer ({}): {} bytes discarded", why, dropped);
  endpoint_.close(ws::close_code::TryAgainLater, "slow consumer");
}

void WebSocketPhase::tick(net::Clock::time_point now) {
  if (chat_ && endpoint_.state() == ws::Endpoint::State::Open) chat_->tick();
  if (input_waiting_) resume_held_input(now);
  if (check_closing(now) || check_slow_consumer(now)) return;
  keep_alive(now);
}

bool WebSocketPhase::check_closing(net::Clock::time_point now) {
  if (open()) return false;
  // Closing: the peer has the handshake timeout to answer our close frame
  // and let the TCP connection go.
  if (closing_since_ == net::Clock::time_point{}) closing_since_ = now;
  if (now - closing_since_ >= seconds(conn_.ctx().config.handshake_timeout)) conn_.abort();
  return true;
}

bool WebSocketPhase::check_slow_consumer(net::Clock::time_point now) {
  if (conn_.behind_for(now) < seconds(conn_.ctx().config.slow_consumer_seconds)) return false;
  drop_slow_consumer("soft output limit");
  return true;
}

void WebSocketPhase::keep_alive(net::Clock::time_point now) {
  const Config& c = conn_.ctx().config;
  auto silent = now - last_input_;
  if (silent >= kTrimAfterSilence) {
    endpoint_.trim();
    encoder_.trim();
    conn_.stream().trim();
  }
  if (silent >= seconds(c.idle_timeout)) {
    endpoint_.close(ws::close_code::GoingAway, "idle timeout");
  } else if (silent >= seconds(c.ping_interval) && !ping_outstanding_) {
    ping_outstanding_ = true;
    std::string ping;
    ws::append_frame(ping, ws::Opcode::Ping, {});
    conn_.stream().send(ping);
  }
}

}  // namespace parley::app
