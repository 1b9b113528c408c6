#include "app/api.h"

#include <spdlog/spdlog.h>

#include "app/client_address.h"
#include "app/connection.h"
#include "app/server_context.h"
#include "chat/api_codec.h"
#include "http/query.h"
#include "http/response.h"

namespace parley::app {
namespace {

using chat::api_error;
using chat::ApiErrorCode;

int status_of(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::Unauthorized:
      return 401;
    case ApiErrorCode::NotFound:
    case ApiErrorCode::RoomNotFound:
    case ApiErrorCode::NotInRoom:
    case ApiErrorCode::ApiDisabled:
      return 404;
    case ApiErrorCode::MethodNotAllowed:
      return 405;
    case ApiErrorCode::LengthRequired:
      return 411;
    case ApiErrorCode::BodyTooLarge:
      return 413;
    case ApiErrorCode::UnsupportedMedia:
      return 415;
    case ApiErrorCode::MessageNotFound:
    case ApiErrorCode::MessageDeleted:
      return 422;
    case ApiErrorCode::RateLimited:
      return 429;
    case ApiErrorCode::RoomLimit:
    case ApiErrorCode::Unavailable:
      return 503;
    default:
      return 400;
  }
}

// `application/json`, with parameters (charset) or not, in any case.
bool is_json(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return http::iequals(type, "application/json");
}

}  // namespace

ApiExchange::ApiExchange(Connection& conn) : conn_(conn) {
  ref_ = conn_.ctx().services.chat.attach_caller(conn_.ctx().index, this);
}

ApiExchange::~ApiExchange() {
  if (ref_) conn_.ctx().services.chat.detach_caller(*ref_);
}

void ApiExchange::begin(const http::Request& request, uint64_t content_length, bool chunked,
                        bool last) {
  last_ = last;
  body_unread_ = content_length > 0 || chunked;
  const ApiService* api = conn_.ctx().services.api;
  if (api == nullptr) {
    fail(api_error(ApiErrorCode::ApiDisabled,
                   "the API is off: the server runs without --api-key-file"));
    return;
  }
  Result<ApiTarget> target =
      parse_api_target(request.method, request.path(), http::query_of(request.target));
  if (!target) {
    const bool method = chat::api_error_code(target.error()) == ApiErrorCode::MethodNotAllowed;
    fail(target.error(), method ? api_allowed_methods(request.path()) : std::string_view{});
    return;
  }
  if (!authorized(request)) return;
  if (!check_body(request, content_length, chunked)) return;
  target_ = *std::move(target);
  if (target_.endpoint == ApiTarget::Endpoint::PostMessage) {
    state_ = State::Body;
    body_expected_ = content_length;
    body_.clear();
    body_.reserve(content_length);
    if (content_length == 0) {
      post({});
      return;
    }
    // A client that waits to be asked for its body (curl does above 1 KiB)
    // is asked now, rather than after its own timeout (RFC 9110 §10.1.1).
    auto expect = request.header("Expect");
    if (expect && http::iequals(*expect, "100-continue") && request.version_minor >= 1) {
      conn_.stream().send("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return;
  }
  call(target_);
}

bool ApiExchange::authorized(const http::Request& request) {
  ApiService& api = *conn_.ctx().services.api;
  const auto now = ApiLimiter::Clock::now();
  std::optional<std::string> name;
  if (auto header = request.header("Authorization")) {
    if (auto token = bearer_token(*header)) name = api.keys->match(*token);
  }
  if (!name) {
    // Counted per client address (after --trusted-proxies), keyed as edge's
    // limits are: an IPv4 address, an IPv6 /64.
    const Peer& peer = conn_.peer();
    net::IpAddress client = peer.trusted_proxy ? client_address(peer.address, request,
                                                                conn_.ctx().config.trusted_proxies)
                                               : peer.client;
    if (long wait = api.limiter.take_failure(net::limit_key(client).to_string(), now)) {
      fail(api_error(ApiErrorCode::RateLimited, "too many requests without a valid key"), {}, wait);
      return false;
    }
    fail(api_error(ApiErrorCode::Unauthorized, "send `Authorization: Bearer <key>`"));
    return false;
  }
  if (long wait = api.limiter.take_key(*name, now)) {
    fail(api_error(ApiErrorCode::RateLimited, "this key is over its rate limit"), {}, wait);
    return false;
  }
  key_name_ = *std::move(name);
  return true;
}

bool ApiExchange::check_body(const http::Request& request, uint64_t content_length, bool chunked) {
  const bool post = request.method == "POST";
  if (!post) {
    if (body_unread_) fail(api_error(ApiErrorCode::BadRequest, "this request takes no body"));
    return !body_unread_;
  }
  if (chunked || !request.header("Content-Length")) {
    fail(api_error(ApiErrorCode::LengthRequired, "send the body with a Content-Length"));
    return false;
  }
  const std::size_t limit = max_body(conn_.ctx().config.max_text_bytes);
  if (content_length > limit) {
    fail(api_error(ApiErrorCode::BodyTooLarge,
                   "the body is over " + std::to_string(limit) + " bytes"));
    return false;
  }
  auto type = request.header("Content-Type");
  if (type && !is_json(*type)) {
    fail(api_error(ApiErrorCode::UnsupportedMedia, "send the body as application/json"));
    return false;
  }
  return true;
}

std::size_t ApiExchange::feed_body(std::span<const char> bytes) {
  std::size_t take = std::min(bytes.size(), body_expected_ - body_.size());
  body_.append(bytes.data(), take);
  if (body_.size() == body_expected_) {
    post(body_);
    body_ = std::string();  // a body's memory is not kept between requests
  }
  return take;
}

void ApiExchange::post(std::string_view body) {
  body_unread_ = false;
  state_ = State::Idle;
  const std::size_t max_text = conn_.ctx().config.max_text_bytes;
  Result<chat::ApiPostBody> parsed = chat::parse_api_post(body, max_text);
  if (!parsed) {
    fail(parsed.error());
    return;
  }
  chat::ApiPost post{target_.room,
                     "api:" + key_name_,
                     parsed->name.empty() ? key_name_ : std::move(parsed->name),
                     std::move(parsed->client_id),
                     std::move(parsed->text),
                     parsed->reply_to};
  conn_.ctx().services.chat.api_post(*ref_, std::move(post));
  wait();
}

void ApiExchange::call(ApiTarget& t) {
  chat::ChatHub& hub = conn_.ctx().services.chat;
  using E = ApiTarget::Endpoint;
  switch (t.endpoint) {
    case E::ListRooms:
      // The directory is readable from any loop: answered at once.
      respond(200, chat::encode_api_rooms(hub.rooms_page(t.rooms)));
      return;
    case E::GetMessages:
      hub.api_history(*ref_, std::move(t.room), t.page);
      break;
    case E::ListMembers:
      hub.api_members(*ref_, std::move(t.room), std::move(t.after), t.limit);
      break;
    case E::KickMember:
      hub.api_kick(*ref_, std::move(t.room), std::move(t.user));
      break;
    case E::PostMessage:
      return;  // after its body (post)
  }
  wait();
}

void ApiExchange::wait() {
  state_ = State::Waiting;
  // Nothing more is read until the answer is out (Connection::on_drained).
  conn_.stream().pause_reading();
}

void ApiExchange::api_answered(chat::ApiAnswer answer) {
  if (state_ != State::Waiting) return;
  state_ = State::Idle;
  if (!answer) {
    fail(answer.error());
    return;
  }
  respond(answer->created ? 201 : 200, std::move(answer->body));
}

void ApiExchange::fail(const Error& error, std::string_view allow, long retry_after) {
  ApiErrorCode code = chat::api_error_code(error);
  if (status_of(code) >= 500) spdlog::warn("API request failed: {}", error.message);
  respond(status_of(code), chat::encode_api_error(code, error.message), allow, retry_after);
}

void ApiExchange::respond(int status, std::string body, std::string_view allow, long retry_after) {
  const bool close = last_ || body_unread_;
  state_ = State::Idle;
  http::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (status == 401) r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"parley\""});
  if (!allow.empty()) r.headers.push_back({"Allow", std::string(allow)});
  if (retry_after > 0) r.headers.push_back({"Retry-After", std::to_string(retry_after)});
  if (close) r.headers.push_back({"Connection", "close"});
  r.body = std::move(body);
  net::Stream& out = conn_.stream();
  out.send(http::serialize(r));
  if (close) out.close_after_flush();
}

}  // namespace parley::app
