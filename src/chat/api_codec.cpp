#include "chat/api_codec.h"

#include <simdjson.h>

#include <new>
#include <optional>

#include "base/padded_json.h"
#include "chat/client_message.h"
#include "chat/json_writer.h"

namespace parley::chat {
namespace {

using JsonObject = json::Object<std::string>;

// A flat object with room for nested values in fields a newer client adds.
constexpr std::size_t kMaxDepth = 5;

Errc errc_of(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::RoomNotFound:
    case ApiErrorCode::NotInRoom:
    case ApiErrorCode::NotFound:
    case ApiErrorCode::MessageNotFound:
    case ApiErrorCode::ApiDisabled:
      return Errc::NotFound;
    case ApiErrorCode::RateLimited:
    case ApiErrorCode::RoomLimit:
      return Errc::Overloaded;
    case ApiErrorCode::Unavailable:
      return Errc::Unavailable;
    default:
      return Errc::Invalid;
  }
}

// Reads the fields of the POST body; each returns the error, or nothing.
class BodyReader {
 public:
  explicit BodyReader(simdjson::dom::object object) : object_(object) {}

  std::optional<Error> string(std::string_view key, bool required, std::string_view& out) const {
    simdjson::dom::element value;
    if (!find(key, value)) {
      if (!required) return std::nullopt;
      return api_error(ApiErrorCode::BadRequest, "missing `" + std::string(key) + '`');
    }
    if (value.get(out)) {
      return api_error(ApiErrorCode::BadRequest, '`' + std::string(key) + "` must be a string");
    }
    return std::nullopt;
  }

  std::optional<Error> message_id(std::string_view key, uint64_t& out) const {
    simdjson::dom::element value;
    if (!find(key, value)) return std::nullopt;
    if (value.get(out) || out < 1 || out > kMaxSafeInteger) {
      return api_error(ApiErrorCode::BadRequest,
                       '`' + std::string(key) + "` must be an integer from 1 to 2^53");
    }
    return std::nullopt;
  }

 private:
  // Absent and null are the same (JavaScript's "not given").
  bool find(std::string_view key, simdjson::dom::element& out) const {
    return !object_.at_key(key).get(out) && !out.is_null();
  }
  simdjson::dom::object object_;
};

Result<ApiPostBody> read_post(simdjson::dom::object object, std::size_t max_text_bytes) {
  BodyReader r(object);
  ApiPostBody post;
  std::string_view id, text, name;
  if (auto e = r.string("id", true, id)) return *std::move(e);
  if (!is_valid_client_id(id)) {
    return api_error(ApiErrorCode::IdInvalid, "`id` must be 1-64 printable ASCII characters");
  }
  if (auto e = r.string("text", true, text)) return *std::move(e);
  if (text.empty()) return api_error(ApiErrorCode::TextEmpty, "`text` is empty");
  if (text.size() > max_text_bytes) {
    return api_error(ApiErrorCode::TextTooLong, "`text` is " + std::to_string(text.size()) +
                                                    " bytes, the limit is " +
                                                    std::to_string(max_text_bytes));
  }
  if (auto e = r.string("name", false, name)) return *std::move(e);
  if (!name.empty()) {
    Result<std::string> normal = normalize_name(name);
    if (!normal) return api_error(ApiErrorCode::NameInvalid, normal.error().message);
    post.name = *std::move(normal);
  }
  if (auto e = r.message_id("reply_to", post.reply_to)) return *std::move(e);
  post.client_id = id;
  post.text = text;
  return post;
}

}  // namespace

std::string_view api_error_name(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::BadJson:
      return "bad_json";
    case ApiErrorCode::BadRequest:
      return "bad_request";
    case ApiErrorCode::TextEmpty:
      return "text_empty";
    case ApiErrorCode::TextTooLong:
      return "text_too_long";
    case ApiErrorCode::IdInvalid:
      return "id_invalid";
    case ApiErrorCode::NameInvalid:
      return "name_invalid";
    case ApiErrorCode::RoomInvalid:
      return "room_invalid";
    case ApiErrorCode::UserInvalid:
      return "user_invalid";
    case ApiErrorCode::Unauthorized:
      return "unauthorized";
    case ApiErrorCode::NotFound:
      return "not_found";
    case ApiErrorCode::RoomNotFound:
      return "room_not_found";
    case ApiErrorCode::NotInRoom:
      return "not_in_room";
    case ApiErrorCode::MessageNotFound:
      return "message_not_found";
    case ApiErrorCode::MessageDeleted:
      return "message_deleted";
    case ApiErrorCode::MethodNotAllowed:
      return "method_not_allowed";
    case ApiErrorCode::LengthRequired:
      return "length_required";
    case ApiErrorCode::BodyTooLarge:
      return "body_too_large";
    case ApiErrorCode::UnsupportedMedia:
      return "unsupported_media_type";
    case ApiErrorCode::RateLimited:
      return "rate_limited";
    case ApiErrorCode::RoomLimit:
      return "room_limit";
    case ApiErrorCode::Unavailable:
      return "unavailable";
    case ApiErrorCode::ApiDisabled:
      return "api_disabled";
  }
  return "bad_request";
}

Error api_error(ApiErrorCode code, std::string message) {
  Error e(errc_of(code), std::move(message));
  e.detail = static_cast<unsigned char>(code);
  return e;
}

ApiErrorCode api_error_code(const Error& error) {
  if (error.detail > static_cast<unsigned char>(ApiErrorCode::ApiDisabled)) {
    return ApiErrorCode::BadRequest;
  }
  return static_cast<ApiErrorCode>(error.detail);
}

Result<ApiPostBody> parse_api_post(std::string_view body, std::size_t max_text_bytes) {
  try {
    // One parser per thread (base/padded_json.h); the body it copies is
    // bounded by the API's body limit.
    thread_local PaddedJsonParser parser(4096, kMaxDepth);
    simdjson::dom::element root;
    if (auto error = parser.parse(body, root)) {
      return api_error(ApiErrorCode::BadJson, error == simdjson::DEPTH_ERROR
                                                  ? "JSON nested too deep"
                                                  : "the body is not valid JSON");
    }
    simdjson::dom::object object;
    if (root.get(object)) return api_error(ApiErrorCode::BadJson, "the body is not a JSON object");
    return read_post(object, max_text_bytes);
  } catch (const std::bad_alloc&) {
    return api_error(ApiErrorCode::Unavailable, "out of memory");
  }
}

std::string encode_api_posted(std::string_view room, std::string_view client_id, uint64_t msg_id,
                              int64_t ts_ms, bool duplicate) {
  std::string out;
  out.reserve(96 + room.size() + client_id.size());
  JsonObject(out)
      .string("room", room)
      .string("id", client_id)
      .unsigned_int("msg_id", msg_id)
      .signed_int("ts", ts_ms)
      .boolean("duplicate", duplicate)
      .close();
  return out;
}

std::string encode_api_messages(std::string_view room, std::span<const Message> messages,
                                bool truncated) {
  std::string out;
  JsonObject object(out);
  object.string("room", room).array("messages", messages, [room](std::string& o, const Message& m) {
    o += encode_message(room, m);
  });
  object.boolean("truncated", truncated).close();
  return out;
}

std::string encode_api_members(const MembersView& page) {
  std::string out;
  JsonObject object(out);
  object.string("room", page.room)
      .array("members", page.members, [](std::string& o, const MemberView& m) {
        JsonObject(o).string("user", m.user).string("name", m.name).close();
      });
  if (!page.next.empty()) object.string("next", page.next);
  object.unsigned_int("online", page.online).unsigned_int("users", page.users).close();
  return out;
}

std::string encode_api_rooms(const RoomsPage& page) {
  std::string out;
  JsonObject object(out);
  object.array("rooms", std::span<const RoomSummary>(page.rooms),
               [](std::string& o, const RoomSummary& r) {
                 JsonObject(o)
                     .string("room", r.room)
                     .unsigned_int("users", r.users)
                     .unsigned_int("online", r.online)
                     .close();
               });
  if (!page.next.empty()) object.string("next", page.next);
  object.unsigned_int("total", page.total).close();
  return out;
}

std::string encode_api_kicked(std::string_view room, std::string_view user,
                              std::size_t connections) {
  std::string out;
  JsonObject(out)
      .string("room", room)
      .string("user", user)
      .unsigned_int("connections", connections)
      .close();
  return out;
}

std::string encode_api_error(ApiErrorCode code, std::string_view message) {
  std::string out;
  out.reserve(48 + message.size());
  JsonObject object(out);
  JsonObject inner(object.start("error"));
  inner.string("code", api_error_name(code)).string("message", message).close();
  object.close();
  return out;
}

}  // namespace parley::chat
