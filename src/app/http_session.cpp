#include "app/http_session.h"

#include <spdlog/spdlog.h>

#include "app/websocket_session.h"
#include "chat/room.h"
#include "http/request.h"
#include "http/response.h"
#include "net/socket.h"
#include "ws/handshake.h"

namespace parley::app {

HttpSession::HttpSession(ServerContext& ctx, int fd)
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
  if (parser_.content_length() > 0 || parser_.chunked()) {
    // Nothing here takes a request body; refuse rather than parse one.
    reply_and_close(http::error_response(413, "request bodies are not accepted"));
    return false;
  }
  if (ws::is_websocket_upgrade(req)) return upgrade(req, rest);

  bool close = req.version_minor == 0 ||
               http::list_has_token(req.header_list("Connection").value_or(""), "close");
  std::string response;
  if (req.path() == "/healthz") {
    http::Response r;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Cache-Control", "no-store"});
    r.body = R"({"status":"ok","connections":)" + std::to_string(ctx_.sessions.size()) + "}\n";
    if (req.method != "GET" && req.method != "HEAD") {
      response = http::error_response(405, "use GET or HEAD");
      close = true;
    } else {
      response = http::serialize(r, req.method == "HEAD");
    }
  } else {
    response = ctx_.static_files.respond(req);
  }
  if (close) {
    reply_and_close(response);
    return false;
  }
  conn_->send(response);
  return true;
}

bool HttpSession::upgrade(const http::Request& req, std::span<char> rest) {
  std::string_view path = req.path();
  WebSocketSession::Service service = WebSocketSession::Service::Chat;
  std::string room;
  if (path == "/wss") {
    room = "lobby";  // the seed's endpoint is the lobby, same as /ws/lobby
  } else if (path.starts_with("/ws/") && chat::is_valid_room_name(path.substr(4))) {
    room = std::string(path.substr(4));
  } else if (path == "/echo" && ctx_.config.echo) {
    service = WebSocketSession::Service::Echo;
  } else {
    reply_and_close(http::error_response(404, "no WebSocket endpoint at this path"));
    return false;
  }

  ws::HandshakeOptions options;  // subprotocols: none yet (parley.v1 comes with the JSON protocol)
  ws::HandshakeResult result = ws::accept_handshake(req, options);
  if (result.status != 101) {
    spdlog::debug("handshake refused ({}): {}", result.status, result.error);
    reply_and_close(result.response);
    return false;
  }
  conn_->send(result.response);
  ++ctx_.stats.websocket_upgrades;
  auto* ws = new WebSocketSession(ctx_, std::move(conn_), service, std::move(room));
  finish();
  ws->start(rest);
  return false;
}

void HttpSession::reply_and_close(const std::string& response) {
  conn_->send(response);
  conn_->close_after_flush();
}

void HttpSession::on_disconnect() { finish(); }

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

}  // namespace parley::app
