// A connection's HTTP phase: reads request heads, answers them in order
// (embedded files, /healthz, /metrics), and detects the WebSocket upgrade,
// which it answers with the 101 and hands back to the Connection.
//
// Limits (docs/SECURITY.md, "Connections and output"):
// - the whole phase has one time budget, --handshake-timeout from accept, not
//   renewed per request: past it the connection is aborted, or, when an
//   answer is still leaving, closed after that answer within one more budget;
// - at most --http-max-requests requests per connection; the last answer
//   says Connection: close;
// - requests are answered only while the connection's output is under its
//   limit: past it the rest of the input waits, unparsed, until the client
//   has read (Connection::apply_backpressure pauses the socket meanwhile).
// Before a 101 the edge decides (app/edge_policy.h, check_upgrade): the
// client's address behind a trusted proxy, its handshake rate, the origin.
// /metrics is answered by edge_policy's metrics_answer (token or listener).
//
// Steps: on_data / on_drained -> read_requests -> answer (respond | upgrade
// | reject | start_upload -> feed_upload ...).
//
// Uploads (docs/SECURITY.md, "Uploads"): a POST /upload that passes its
// checks gets --upload-timeout seconds for its body instead of the phase's
// budget; once answered, what follows on the connection gets a fresh
// --handshake-timeout (and still counts against --http-max-requests).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "app/routes.h"
#include "auth/jwt_claims.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "net/clock.h"
#include "ws/deflate_negotiation.h"

namespace parley::app {

class Connection;
class ApiExchange;
class UploadReceiver;

// A handshake answered with 101: what the WebSocket phase starts with.
struct HttpUpgrade {
  WebSocketService service = WebSocketService::Echo;
  std::string room;
  std::string early_bytes;                   // frames that came right behind the request
  std::optional<ws::DeflateParams> deflate;  // permessage-deflate, when agreed
  std::optional<auth::Claims> claims;        // a verified `?token=` (app/upgrade_auth.h)
};

class HttpPhase {
 public:
  explicit HttpPhase(Connection& conn);
  ~HttpPhase();
  HttpPhase(const HttpPhase&) = delete;
  HttpPhase& operator=(const HttpPhase&) = delete;
  HttpPhase(HttpPhase&&) noexcept;

  std::optional<HttpUpgrade> on_data(std::span<char> bytes);
  // The output has drained: answers the requests that were waiting.
  std::optional<HttpUpgrade> on_drained();
  void tick(net::Clock::time_point now);
  // Backend API: a request is waiting for its answer (input stays paused).
  bool awaiting_api() const;

 private:
  enum class Next { Read, Stop };

  std::optional<HttpUpgrade> read_requests(std::span<char> bytes);
  Next answer(http::Request& request, std::optional<HttpUpgrade>& upgrade);
  void respond(const http::Request& request);
  std::optional<HttpUpgrade> upgrade(const http::Request& request);
  void reject(const std::string& response);
  // Backend API (app/api.h): the request under /api/, and its body.
  Next answer_api(const http::Request& request);

  // Uploads (app/uploads.h): POST /upload's body streams into a receiver,
  // under its own budget (--upload-timeout from the end of the head).
  Next start_upload(const http::Request& request);
  std::span<char> feed_upload(std::span<char> bytes);
  std::unique_ptr<UploadReceiver> upload_;
  bool upload_close_ = false;  // the answer ends the connection

  Connection& conn_;
  http::RequestParser parser_;
  std::string unread_;  // input waiting while output is over the limit
  net::Clock::time_point deadline_;
  std::size_t requests_ = 0;
  std::unique_ptr<ApiExchange> api_;  // made at the first API request
  bool api_overtime_ = false;
};

}  // namespace parley::app
