#include "app/http_phase.h"

#include <spdlog/spdlog.h>

#include "app/api.h"
#include "app/connection.h"
#include "app/edge_policy.h"
#include "app/metrics.h"
#include "app/server_context.h"
#include "app/upgrade_auth.h"
#include "app/uploads.h"
#include "chat/json_protocol.h"
#include "http/response.h"
#include "ws/handshake.h"

namespace parley::app {

HttpPhase::HttpPhase(Connection& conn)
    : conn_(conn),
      deadline_(conn.ctx().loop.now() + seconds(conn.ctx().config.handshake_timeout)) {}

HttpPhase::~HttpPhase() = default;
HttpPhase::HttpPhase(HttpPhase&&) noexcept = default;

bool HttpPhase::awaiting_api() const {
  return api_ && api_->waiting();
}

std::optional<HttpUpgrade> HttpPhase::on_data(std::span<char> bytes) {
  if (!unread_.empty() || awaiting_api()) {
    // Reading was paused, so this can only be input that was already on its
    // way; it queues up behind what waits.
    unread_.append(bytes.data(), bytes.size());
    return std::nullopt;
  }
  return read_requests(bytes);
}

std::optional<HttpUpgrade> HttpPhase::on_drained() {
  if (awaiting_api()) return std::nullopt;
  std::string waiting = std::move(unread_);
  unread_.clear();
  return read_requests(std::span<char>(waiting.data(), waiting.size()));
}

std::optional<HttpUpgrade> HttpPhase::read_requests(std::span<char> bytes) {
  // Pipelined requests are answered in order; an upgrade takes the rest of
  // the bytes with it.
  while (!bytes.empty() && conn_.stream().is_open()) {
    // --- backend API: a request's body, then nothing until its answer.
    if (api_ && api_->reading_body()) {
      bytes = bytes.subspan(api_->feed_body(bytes));
      continue;
    }
    if (awaiting_api()) {
      unread_.assign(bytes.data(), bytes.size());
      return std::nullopt;
    }
    // --- end backend API
    if (upload_) {
      bytes = feed_upload(bytes);
      continue;
    }
    if (conn_.output_over_limit()) {
      unread_.assign(bytes.data(), bytes.size());
      return std::nullopt;
    }
    std::size_t consumed = 0;
    auto status = parser_.feed(std::string_view(bytes.data(), bytes.size()), consumed);
    bytes = bytes.subspan(consumed);
    if (status == http::RequestParser::Status::NeedMore) return std::nullopt;
    if (status == http::RequestParser::Status::Error) {
      reject(http::error_response(parser_.error_status(), parser_.error_reason()));
      return std::nullopt;
    }
    http::Request request = parser_.take_request();
    std::optional<HttpUpgrade> upgraded;
    Next next = answer(request, upgraded);
    if (upgraded) upgraded->early_bytes.assign(bytes.data(), bytes.size());
    if (next == Next::Stop) return upgraded;
    parser_.reset();
  }
  return std::nullopt;
}

HttpPhase::Next HttpPhase::answer(http::Request& request, std::optional<HttpUpgrade>& upgraded) {
  LoopContext& ctx = conn_.ctx();
  ctx.stats.http_requests.add();
  // Backend API; not on the metrics listener (edge: /metrics and /healthz only).
  if (is_api_path(request.path()) && !conn_.peer().metrics_only) return answer_api(request);
  if (request.method == "POST" && request.path() == "/upload") {
    if (ctx.services.uploads) return start_upload(request);  // uploads (app/uploads.h)
    // Off (the Redis engine keeps no files): said so, not "use GET".
    reject(http::error_response(501, "this server keeps no files: uploads are off"));
    return Next::Stop;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    // The method is what is wrong, whatever the body.
    http::Response r = http::make_error_response(405, "use GET or HEAD");
    r.headers.push_back({"Allow", "GET, HEAD"});
    reject(http::serialize(r));
    return Next::Stop;
  }
  if (parser_.content_length() > 0 || parser_.chunked()) {
    // Nothing here takes a request body; refuse rather than parse one.
    reject(http::error_response(400, "GET and HEAD requests take no body"));
    return Next::Stop;
  }
  if (ws::is_websocket_upgrade(request)) {
    upgraded = upgrade(request);
    return Next::Stop;
  }
  if (++requests_ >= ctx.config.http_max_requests) {
    // The last request this connection may make: the answer says so.
    request.headers.push_back({"Connection", "close"});
  }
  respond(request);
  if (request.keep_alive()) return Next::Read;
  conn_.stream().close_after_flush();
  return Next::Stop;
}

void HttpPhase::respond(const http::Request& request) {
  bool head = request.method == "HEAD";
  bool close = !request.keep_alive();
  const SharedServices& services = conn_.ctx().services;
  net::Stream& out = conn_.stream();
  if (conn_.peer().metrics_only && !served_on_metrics_listener(request.path())) {
    // Edge: the metrics listener serves nothing else.
    out.send(http::serialize(
        http::make_error_response(404, "this listener serves /metrics and /healthz only", !close),
        head));
  } else if (request.path() == "/healthz") {
    out.send(health_response(services, head, close));
  } else if (request.path() == "/metrics") {
    out.send(metrics_answer(conn_, request, head, close));  // edge: token or listener
  } else if (request.path().starts_with("/files/") && services.uploads) {
    http::StaticFiles::Parts parts = services.uploads->serve(request, close);  // uploads
    out.send(parts.head);
    if (parts.body) out.send(std::move(parts.body));
  } else {
    // The file goes out by reference: a thousand pipelined GETs queue a
    // thousand heads, not a thousand copies (they still count as output).
    http::StaticFiles::Parts parts = services.static_files.respond_parts(request);
    out.send(parts.head);
    if (parts.body) out.send(std::move(parts.body));
  }
}

std::optional<HttpUpgrade> HttpPhase::upgrade(const http::Request& request) {
  LoopContext& ctx = conn_.ctx();
  std::optional<WebSocketRoute> route = websocket_route(request.path(), ctx.config.echo);
  if (!route || conn_.peer().metrics_only) {
    reject(http::error_response(404, "no WebSocket endpoint at this path"));
    return std::nullopt;
  }
  // Edge: proxied client address, handshake rate, origin policy.
  if (std::optional<std::string> refused = check_upgrade(conn_, request)) {
    reject(*refused);
    return std::nullopt;
  }
  ws::HandshakeOptions options;
  if (route->chat) options.subprotocols.emplace_back(chat::kJsonSubprotocol);
  options.deflate = ctx.config.deflate == "takeover" ? ws::context_takeover_policy()
                                                     : ws::shared_deflate_policy();
  options.deflate.enabled = ctx.config.deflate != "off";
  ws::HandshakeResult result = ws::accept_handshake(request, options);
  if (result.status != 101) {
    spdlog::debug("handshake refused ({}): {}", result.status, result.error);
    reject(result.response);
    return std::nullopt;
  }
  HttpUpgrade up;
  up.room = std::move(route->room);
  up.deflate = result.deflate;
  if (!route->chat) {
    up.service = WebSocketService::Echo;
  } else if (result.subprotocol == chat::kJsonSubprotocol) {
    up.service = WebSocketService::JsonChat;
  } else {
    up.service = WebSocketService::PlainChat;
  }
  // ?token= under --auth jwt: 401/403 instead of the 101 (app/upgrade_auth.h).
  if (route->chat) {
    UpgradeAuth checked =
        check_upgrade_token(ctx.config.jwt.get(), request.target,
                            up.service == WebSocketService::PlainChat, up.room, auth::Clock::now());
    if (!checked.refusal.empty()) {
      reject(checked.refusal);
      return std::nullopt;
    }
    up.claims = std::move(checked.claims);
  }
  conn_.stream().send(result.response);
  ctx.stats.websocket_upgrades.add();
  return up;
}

HttpPhase::Next HttpPhase::answer_api(const http::Request& request) {
  bool last = !request.keep_alive() || ++requests_ >= conn_.ctx().config.http_max_requests;
  if (!api_) api_ = std::make_unique<ApiExchange>(conn_);
  api_->begin(request, parser_.content_length(), parser_.chunked(), last);
  // The exchange closes the connection after its answer when it is the last.
  return Next::Read;
}

void HttpPhase::reject(const std::string& response) {
  conn_.stream().send(response);
  conn_.stream().close_after_flush();
}

// ---- Uploads (app/uploads.h) ----

HttpPhase::Next HttpPhase::start_upload(const http::Request& request) {
  LoopContext& ctx = conn_.ctx();
  Uploads::Start start =
      ctx.services.uploads->begin(request, parser_.content_length(), parser_.chunked());
  if (!start.receiver) {
    // Refused on its head: the body is never read (the stream discards it
    // while our answer leaves and the connection closes).
    reject(start.refusal);
    return Next::Stop;
  }
  upload_ = std::move(start.receiver);
  upload_close_ = !request.keep_alive() || ++requests_ >= ctx.config.http_max_requests;
  deadline_ = ctx.loop.now() + seconds(ctx.config.upload_timeout);
  if (auto expect = request.header("Expect"); expect && http::iequals(*expect, "100-continue")) {
    conn_.stream().send("HTTP/1.1 100 Continue\r\n\r\n");
  }
  parser_.reset();
  return Next::Read;
}

std::span<char> HttpPhase::feed_upload(std::span<char> bytes) {
  std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(bytes.size(), upload_->remaining()));
  if (Status fed = upload_->feed(std::string_view(bytes.data(), n)); !fed) {
    spdlog::warn("upload: {}", fed.error().message);
    upload_.reset();
    reject(http::error_response(500, "the file could not be stored"));
    return {};
  }
  bytes = bytes.subspan(n);
  if (upload_->remaining() > 0) return bytes;
  std::string answer = upload_->finish(upload_close_);
  upload_.reset();
  conn_.stream().send(answer);
  if (upload_close_) {
    conn_.stream().close_after_flush();
    return {};
  }
  deadline_ = conn_.ctx().loop.now() + seconds(conn_.ctx().config.handshake_timeout);
  return bytes;
}

void HttpPhase::tick(net::Clock::time_point now) {
  // Slowloris guard and keep-alive limit in one: every request head must
  // arrive within the budget. An answer still leaving then gets one more
  // budget to be read (its client is slow, not necessarily hostile); after
  // that, and for a lingering close, the connection is aborted.
  if (now < deadline_) return;
  net::Stream& stream = conn_.stream();
  if (awaiting_api() && !api_overtime_) {
    // An API answer is on its way (the store may be slow): it gets one more
    // budget, and the connection closes after it.
    api_overtime_ = true;
    api_->close_after_answer();
    deadline_ = now + seconds(conn_.ctx().config.handshake_timeout);
    return;
  }
  if (stream.is_open()) {
    conn_.ctx().stats.http_timeouts.add();
    if (stream.pending_bytes() > 0) {
      stream.close_after_flush();
      deadline_ = now + seconds(conn_.ctx().config.handshake_timeout);
      return;
    }
  }
  conn_.abort();
}

}  // namespace parley::app
