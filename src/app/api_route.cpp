#include "app/api_route.h"

#include <charconv>
#include <initializer_list>
#include <optional>
#include <vector>

#include "chat/api_call.h"
#include "chat/room.h"
#include "http/query.h"
#include "text/unicode.h"

namespace parley::app {
namespace {

using chat::api_error;
using chat::ApiErrorCode;
constexpr std::string_view kPrefix = "/api/v1/";
constexpr std::size_t kMaxUserBytes = 256;

// The path's segments after /api/v1/; empty when it is not under it.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.starts_with(kPrefix)) return out;
  path.remove_prefix(kPrefix.size());
  while (true) {
    std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  for (std::string_view s : out) {
    if (s.empty()) return {};  // "//" or a trailing slash: no endpoint
  }
  return out;
}

// The endpoint a path names, by shape alone.
std::optional<ApiTarget::Endpoint> shape(const std::vector<std::string_view>& s, bool post) {
  using E = ApiTarget::Endpoint;
  if (s.empty() || s[0] != "rooms") return std::nullopt;
  if (s.size() == 1) return E::ListRooms;
  if (s.size() == 3 && s[2] == "messages") return post ? E::PostMessage : E::GetMessages;
  if (s.size() == 3 && s[2] == "members") return E::ListMembers;
  if (s.size() == 4 && s[2] == "members") return E::KickMember;
  return std::nullopt;
}

bool is_utf8(std::string_view s) {
  return unicode::for_each_code_point(s, [](const unicode::CodePoint&) {
    return false;  // validity is checked before the first call
  });
}

// The query's parameters, each one of `allowed` and given at most once.
class Query {
 public:
  static Result<Query> parse(std::string_view query,
                             std::initializer_list<std::string_view> allowed) {
    std::optional<http::QueryParams> params = http::parse_query(query);
    if (!params) return api_error(ApiErrorCode::BadRequest, "malformed %-escape in the query");
    Query q;
    for (auto& [name, value] : *params) {
      bool known = false;
      for (std::string_view a : allowed) known = known || name == a;
      if (!known) {
        if (!is_utf8(name)) return api_error(ApiErrorCode::BadRequest, "unknown query parameter");
        return api_error(ApiErrorCode::BadRequest, "unknown query parameter `" + name + '`');
      }
      if (q.get(name)) {
        return api_error(ApiErrorCode::BadRequest, "`" + name + "` given twice");
      }
      if (!is_utf8(value)) {
        return api_error(ApiErrorCode::BadRequest, "`" + name + "` is not UTF-8");
      }
      q.params_.emplace_back(std::move(name), std::move(value));
    }
    return q;
  }

  const std::string* get(std::string_view name) const {
    for (const auto& [n, v] : params_) {
      if (n == name) return &v;
    }
    return nullptr;
  }

  // An integer in [min, max]; `fallback` when absent.
  Result<uint64_t> integer(std::string_view name, uint64_t min, uint64_t max,
                           uint64_t fallback) const {
    const std::string* v = get(name);
    if (v == nullptr) return fallback;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || end != v->data() + v->size() || n < min || n > max) {
      return api_error(ApiErrorCode::BadRequest,
                       "`" + std::string(name) + "` must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max));
    }
    return n;
  }

 private:
  http::QueryParams params_;
};

Status messages_query(std::string_view query, ApiTarget& t) {
  Result<Query> q = Query::parse(query, {"before", "after", "limit"});
  if (!q) return std::move(q).error();
  if (q->get("before") && q->get("after")) {
    return api_error(ApiErrorCode::BadRequest, "give `before` or `after`, not both");
  }
  Result<uint64_t> before = q->integer("before", 1, chat::kMaxSafeInteger, 0);
  Result<uint64_t> after = q->integer("after", 0, chat::kMaxSafeInteger, 0);
  Result<uint64_t> limit = q->integer("limit", 1, 200, chat::kDefaultHistoryLimit);
  for (auto* r : {&before, &after, &limit}) {
    if (!*r) return r->error();
  }
  using From = chat::PageQuery::From;
  t.page.limit = *limit;
  if (q->get("before")) {
    t.page.from = From::Before;
    t.page.anchor = *before;
  } else if (q->get("after")) {
    t.page.from = From::After;
    t.page.anchor = *after;
  } else {
    t.page.from = From::Newest;
  }
  return {};
}

Status rooms_query(std::string_view query, ApiTarget& t) {
  Result<Query> q = Query::parse(query, {"q", "order", "after", "limit"});
  if (!q) return std::move(q).error();
  if (const std::string* prefix = q->get("q")) {
    std::string_view trimmed = unicode::trim_white_space(*prefix);
    std::size_t n = 0;
    unicode::for_each_code_point(trimmed, [&](const auto&) { return ++n > 0; });
    if (n > chat::kMaxRoomsQueryCodePoints) {
      return api_error(ApiErrorCode::BadRequest, "`q` is at most 64 characters");
    }
    t.rooms.query = trimmed;
  }
  if (const std::string* order = q->get("order")) {
    if (*order != "users" && *order != "name") {
      return api_error(ApiErrorCode::BadRequest, "`order` is users or name");
    }
    t.rooms.order =
        *order == "name" ? chat::RoomsRequest::Order::Name : chat::RoomsRequest::Order::Users;
  }
  if (const std::string* after = q->get("after")) {
    if (after->size() > chat::kMaxRoomsCursorBytes) {
      return api_error(ApiErrorCode::BadRequest, "`after` must be a `next` of an earlier page");
    }
    t.rooms.after = *after;
  }
  Result<uint64_t> limit = q->integer("limit", 1, chat::kMaxRoomsLimit, chat::kDefaultRoomsLimit);
  if (!limit) return limit.error();
  t.rooms.limit = static_cast<uint32_t>(*limit);
  return {};
}

Status members_query(std::string_view query, ApiTarget& t) {
  Result<Query> q = Query::parse(query, {"after", "limit"});
  if (!q) return std::move(q).error();
  if (const std::string* after = q->get("after")) {
    if (after->size() > chat::kMaxMembersCursorBytes) {
      return api_error(ApiErrorCode::BadRequest, "`after` must be a `next` of an earlier page");
    }
    t.after = *after;
  }
  Result<uint64_t> limit =
      q->integer("limit", 1, chat::kMaxMembersLimit, chat::kDefaultMembersLimit);
  if (!limit) return limit.error();
  t.limit = *limit;
  return {};
}

Status no_query(std::string_view query) {
  Result<Query> q = Query::parse(query, {});
  if (!q) return std::move(q).error();
  return {};
}

}  // namespace

std::string_view api_allowed_methods(std::string_view path) {
  std::optional<ApiTarget::Endpoint> e = shape(segments(path), false);
  if (!e) return {};
  switch (*e) {
    case ApiTarget::Endpoint::GetMessages:
    case ApiTarget::Endpoint::PostMessage:
      return "GET, POST";
    case ApiTarget::Endpoint::KickMember:
      return "DELETE";
    default:
      return "GET";
  }
}

Result<ApiTarget> parse_api_target(std::string_view method, std::string_view path,
                                   std::string_view query) {
  using E = ApiTarget::Endpoint;
  std::vector<std::string_view> s = segments(path);
  std::optional<E> e = shape(s, method == "POST");
  if (!e) return api_error(ApiErrorCode::NotFound, "no such endpoint");
  std::string_view allowed = api_allowed_methods(path);
  bool ok = (method == "GET" && allowed.find("GET") != std::string_view::npos) ||
            (method == "POST" && *e == E::PostMessage) ||
            (method == "DELETE" && *e == E::KickMember);
  if (!ok) {
    return api_error(ApiErrorCode::MethodNotAllowed,
                     "use " + std::string(allowed) + " at this endpoint");
  }
  ApiTarget t;
  t.endpoint = *e;
  if (s.size() >= 2) {
    Result<std::string> room = chat::room_from_path_segment(s[1]);
    if (!room) return api_error(ApiErrorCode::RoomInvalid, room.error().message);
    t.room = *std::move(room);
  }
  if (*e == E::KickMember) {
    std::optional<std::string> user = http::percent_decode(s[3]);
    if (!user || user->empty() || user->size() > kMaxUserBytes || !is_utf8(*user)) {
      return api_error(ApiErrorCode::UserInvalid, "the user must be 1-256 bytes of UTF-8");
    }
    t.user = *std::move(user);
  }
  Status parsed;
  switch (*e) {
    case E::ListRooms:
      parsed = rooms_query(query, t);
      break;
    case E::GetMessages:
      parsed = messages_query(query, t);
      break;
    case E::ListMembers:
      parsed = members_query(query, t);
      break;
    case E::PostMessage:
    case E::KickMember:
      parsed = no_query(query);
      break;
  }
  if (!parsed) return parsed.error();
  return t;
}

}  // namespace parley::app
