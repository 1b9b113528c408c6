// The backend HTTP API (docs/API.md) on one HTTP connection: the glue
// between a request the HTTP phase parsed and the chat core that answers it.
//
// An ApiExchange belongs to a connection's HttpPhase (made at its first API
// request) and carries one request at a time, in three steps:
//
//   begin(head) ──▶ answered at once (errors, GET /rooms)
//        │
//        ├──▶ reading the body (POST: Content-Length bytes) ──▶ call
//        └──▶ call: ChatHub::api_* ──▶ waiting ──▶ api_answered ──▶ response
//
// While the body is read and while the answer is awaited the HTTP phase
// parses nothing more: pipelined requests wait, unread, and input is paused
// until the answer is out (Connection::on_drained then resumes reading and
// the waiting requests are answered in order). The chat answers on this
// connection's loop; a connection that closes first detaches its caller and
// the answer is dropped.
//
// Checks before anything is done, in this order: the endpoint and method
// (404, 405 with Allow), the room and user in the path and the query (400),
// the key (401; failures limited per address: 429), the key's rate (429 with
// Retry-After), the body's framing and size (411, 413 before it is read,
// 415), the body (400). An error answered before the body was read closes
// the connection, which then cannot be parsed on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "app/api_keys.h"
#include "app/api_limiter.h"
#include "app/api_route.h"
#include "chat/api_call.h"
#include "http/request.h"

namespace parley::app {

class Connection;

// Server-wide: the keys and the rate limits; shared by every loop.
struct ApiService {
  ApiService(std::shared_ptr<const ApiKeys> k, double rate, double burst)
      : keys(std::move(k)), limiter(rate, burst) {}
  std::shared_ptr<const ApiKeys> keys;
  ApiLimiter limiter;
};

class ApiExchange final : private chat::ApiCaller {
 public:
  explicit ApiExchange(Connection& conn);
  ~ApiExchange();
  ApiExchange(const ApiExchange&) = delete;
  ApiExchange& operator=(const ApiExchange&) = delete;

  // A request head under /api/. `last`: the connection closes after it.
  void begin(const http::Request& request, uint64_t content_length, bool chunked, bool last);
  // Body bytes of the request begun; returns how many it took.
  std::size_t feed_body(std::span<const char> bytes);

  bool reading_body() const { return state_ == State::Body; }
  bool waiting() const { return state_ == State::Waiting; }
  // The HTTP budget ran out while waiting: close after the answer.
  void close_after_answer() { last_ = true; }

  // The largest body accepted: a text of --max-text-bytes, every byte
  // escaped as \u00XX, and room for the other fields.
  static std::size_t max_body(std::size_t max_text_bytes) { return 6 * max_text_bytes + 4096; }

 private:
  enum class State { Idle, Body, Waiting };

  // Steps of a request.
  bool authorized(const http::Request& request);
  bool check_body(const http::Request& request, uint64_t content_length, bool chunked);
  void call(ApiTarget& target);
  void post(std::string_view body);
  void api_answered(chat::ApiAnswer answer) override;

  // Answers.
  void respond(int status, std::string body, std::string_view allow = {}, long retry_after = 0);
  void fail(const Error& error, std::string_view allow = {}, long retry_after = 0);
  void wait();

  Connection& conn_;
  State state_ = State::Idle;
  bool last_ = false;
  bool body_unread_ = false;  // an error now leaves a body on the wire: close
  std::optional<chat::ApiCallRef> ref_;
  ApiTarget target_;
  std::string key_name_;
  std::string body_;
  std::size_t body_expected_ = 0;
};

}  // namespace parley::app
