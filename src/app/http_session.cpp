#include "app/http_session.h"

#include <spdlog/spdlog.h>

#include "app/websocket_session.h"
#include "chat/json_protocol.h"
#include "chat/room.h"
#include "http/request.h"
#include "http/response.h"
#include "ws/handshake.h"

namespace parley::app {

HttpSession::HttpSession(LoopContext& ctx, int fd)
    : ctx_(ctx), conn_(std::make_unique<net::TcpConnection>(ctx.loop, fd)) {
  deadline_ = ctx_.loop.now() + seconds(ctx_.config.handshake_timeout);
}

void HttpSession::start() {
  ctx_.sessions.add(this);
  conn_->start(this);
}

void HttpSession::on_data(std::span<char> bytes) {
  // Pipelined requests are answered in order; a WebSocket upgrade takes the
  // rest of the bytes with it.
  while (!bytes.empty() && conn_ && conn_->is_open()) {
    std::size_t consumed = 0;
    auto status = parser_.feed(std::string_view(bytes.data(), bytes.size()), consumed);
    bytes = bytes.subspan(consumed);
    if (status == http::RequestParser::Status::NeedMore) return;
    if (status == http::RequestParser::Status::Error) {
      reply_and_close(http::error_response(parser_.error_status(), parser_.error_reason()));
      return;
    }
    http::Request req = parser_.take_request();
    if (!handle_request(req, bytes)) return;
    parser_.reset();
    deadline_ = ctx_.loop.now() + seconds(ctx_.config.handshake_timeout);
  }
}

bool HttpSession::handle_request(const http::Request& req, std::span<char> rest) {
  bool has_body = parser_.content_length() > 0 || parser_.chunked();
  if (req.method != "GET" && req.method != "HEAD") {
    // The method is what is wrong, whatever the body.
    http::Response r;
    r.status = 405;
    r.headers.push_back({"Allow", "GET, HEAD"});
    r.headers.push_back({"Connection", "close"});
    r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    r.body = "405 Method Not Allowed: use GET or HEAD\n";
    reply_and_close(http::serialize(r, false));
    return false;
  }
  if (has_body) {
    // Nothing here takes a request body; refuse rather than parse one.
    reply_and_close(http::error_response(400, "GET and HEAD requests take no body"));
    return false;
  }
  if (ws::is_websocket_upgrade(req)) return upgrade(req, rest);

  bool close = !req.keep_alive();
  std::string response = serve(req);
  if (close) {
    reply_and_close(response);
    return false;
  }
  conn_->send(response);
  return true;
}

std::string HttpSession::serve(const http::Request& req) {
  if (req.path() == "/healthz") {
    http::Response r;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Cache-Control", "no-store"});
    r.body = R"({"status":"ok"})"
             "\n";
    return http::serialize(r, req.method == "HEAD");
  }
  if (req.path() == "/metrics") return metrics(req);
  return ctx_.services.static_files.respond(req);
}

std::string HttpSession::metrics(const http::Request& req) const {
  // Prometheus text format, summed over the loops.
  uint64_t accepted = 0, upgrades = 0, open = 0, messages = 0, dropped = 0;
  for (const LoopContext* l : ctx_.services.loops) {
    accepted += l->stats.connections_accepted.get();
    upgrades += l->stats.websocket_upgrades.get();
    open += l->stats.websocket_open.get();
    messages += l->stats.messages_received.get();
    dropped += l->stats.slow_consumers_dropped.get();
  }
  auto counter = [](std::string& out, const char* name, const char* help, const char* type,
                    uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  http::Response r;
  r.headers.push_back({"Content-Type", "text/plain; version=0.0.4; charset=utf-8"});
  r.headers.push_back({"Cache-Control", "no-store"});
  counter(r.body, "parley_connections_accepted_total", "TCP connections accepted.", "counter",
          accepted);
  counter(r.body, "parley_websocket_upgrades_total", "WebSocket handshakes completed.", "counter",
          upgrades);
  counter(r.body, "parley_websocket_connections", "WebSocket connections open.", "gauge", open);
  counter(r.body, "parley_messages_received_total", "WebSocket messages received.", "counter",
          messages);
  counter(r.body, "parley_slow_consumers_dropped_total",
          "Clients dropped for not reading their output.", "counter", dropped);
  counter(r.body, "parley_event_loops", "Event loops (threads serving connections).", "gauge",
          ctx_.services.loops.size());
  return http::serialize(r, req.method == "HEAD");
}

bool HttpSession::upgrade(const http::Request& req, std::span<char> rest) {
  std::string_view path = req.path();
  ws::HandshakeOptions options;
  bool chat_path = false;
  std::string room;
  if (path == "/wss") {
    room = "lobby";  // the seed's endpoint is the lobby, the same as /ws/lobby
    chat_path = true;
  } else if (path == "/ws") {
    room = "lobby";  // plain text: the lobby; JSON clients join rooms by message
    chat_path = true;
  } else if (path.starts_with("/ws/") && chat::is_valid_room_name(path.substr(4))) {
    room = std::string(path.substr(4));
    chat_path = true;
  } else if (!(path == "/echo" && ctx_.config.echo)) {
    reply_and_close(http::error_response(404, "no WebSocket endpoint at this path"));
    return false;
  }
  if (chat_path) options.subprotocols.emplace_back(chat::kJsonSubprotocol);
  options.deflate = ctx_.config.deflate == "takeover" ? ws::context_takeover_policy()
                                                      : ws::shared_deflate_policy();
  options.deflate.enabled = ctx_.config.deflate != "off";

  ws::HandshakeResult result = ws::accept_handshake(req, options);
  if (result.status != 101) {
    spdlog::debug("handshake refused ({}): {}", result.status, result.error);
    reply_and_close(result.response);
    return false;
  }
  WebSocketSession::Service service = WebSocketSession::Service::Echo;
  if (chat_path) {
    if (result.subprotocol == chat::kJsonSubprotocol) {
      service = WebSocketSession::Service::JsonChat;
    } else {
      service = WebSocketSession::Service::PlainChat;
    }
  }
  conn_->send(result.response);
  ctx_.stats.websocket_upgrades.add();
  auto* ws = new WebSocketSession(ctx_, std::move(conn_), service, std::move(room), result.deflate);
  finish();
  ws->start(rest);
  return false;
}

void HttpSession::reply_and_close(const std::string& response) {
  conn_->send(response);
  conn_->close_after_flush();
}

void HttpSession::on_disconnect() {
  finish();
}

void HttpSession::finish() {
  if (finished_) return;
  finished_ = true;
  ctx_.sessions.remove(this);
  ctx_.loop.defer([this] { delete this; });
}

void HttpSession::tick(net::Clock::time_point now) {
  if (finished_ || !conn_) return;
  // Slowloris guard: a request head must arrive within the handshake timeout;
  // a lingering close must not outlive it either.
  if (now >= deadline_) conn_->close_now();
}

void HttpSession::shutdown() {
  if (!finished_ && conn_) conn_->close_after_flush();
}

void HttpSession::abort() {
  if (!finished_ && conn_) conn_->close_now();
  finish();
}

}  // namespace parley::app
