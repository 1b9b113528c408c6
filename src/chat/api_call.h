// The backend HTTP API (docs/API.md) as the chat core sees it: a call made on
// one event loop (the loop of the HTTP connection that carries it), answered
// once, later, on that same loop.
//
// A call names its caller by an ApiCallRef (loop, id) that ChatHub hands out
// (attach_caller) and forgets (detach_caller): a caller that went away before
// its answer (the connection closed) resolves to nothing and the answer is
// dropped, as a MemberRef does for a member. The room's home answers through
// RoomHost::api_answer; nothing of HTTP is known here: an answer is a JSON
// body (chat/api_codec.h) or an Error whose `detail` is an ApiErrorCode.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "base/result.h"

namespace parley::chat {

struct ApiCallRef {
  uint32_t loop = 0;
  uint64_t id = 0;
  bool operator==(const ApiCallRef&) const = default;
};

// The `code` of an API error (`{"error": {"code": ...}}`). The strings
// (api_error_name) are part of the API and never change once published.
enum class ApiErrorCode : unsigned char {
  BadJson,           // the body is not one valid JSON object
  BadRequest,        // a field missing, of the wrong type or out of range; a bad query
  TextEmpty,         // `text` is ""
  TextTooLong,       // `text` over --max-text-bytes
  IdInvalid,         // `id` is not 1-64 printable ASCII characters
  NameInvalid,       // `name` breaks the name rules
  RoomInvalid,       // the room in the path breaks the room rules
  UserInvalid,       // the user in the path is empty, too long or not UTF-8
  Unauthorized,      // no key, or not a key of --api-key-file
  NotFound,          // no such endpoint
  RoomNotFound,      // a room that has never had a message or anyone in it
  NotInRoom,         // DELETE of a user with no connection in the room
  MessageNotFound,   // `reply_to` names no message of the room
  MessageDeleted,    // `reply_to` names a deleted message
  MethodNotAllowed,  // the endpoint exists, the method does not (Allow says which do)
  LengthRequired,    // a POST without Content-Length (chunked bodies are not taken)
  BodyTooLarge,      // Content-Length over the body limit
  UnsupportedMedia,  // a Content-Type other than application/json
  RateLimited,       // the key's or the address's budget is spent (Retry-After)
  RoomLimit,         // the room is not open and the server is at --max-rooms
  Unavailable,       // the history store cannot serve now; retry
  ApiDisabled,       // the server runs without --api-key-file
};

std::string_view api_error_name(ApiErrorCode code);

// An Error carrying an API error code (Errc chosen to match it).
Error api_error(ApiErrorCode code, std::string message);
// The code of an Error made by api_error (BadRequest for any other).
ApiErrorCode api_error_code(const Error& error);

// A successful answer: its JSON body, and whether it made something new (a
// message stored: 201 rather than 200).
struct ApiReply {
  std::string body;
  bool created = false;
};
using ApiAnswer = Result<ApiReply>;

// Who waits for an answer: implemented by the HTTP side (app/api.h).
class ApiCaller {
 public:
  virtual void api_answered(ApiAnswer answer) = 0;

 protected:
  ~ApiCaller() = default;
};

// One loop's calls waiting for an answer, by id (ChatHub keeps one per
// loop). Touched only from its loop's thread.
class ApiCallerTable {
 public:
  uint64_t add(ApiCaller* caller) {
    callers_.emplace(next_, caller);
    return next_++;
  }
  void remove(uint64_t id) { callers_.erase(id); }
  ApiCaller* find(uint64_t id) const {
    auto it = callers_.find(id);
    return it == callers_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<uint64_t, ApiCaller*> callers_;
  uint64_t next_ = 1;
};

// POST /api/v1/rooms/{room}/messages, validated (chat/api_codec.h).
struct ApiPost {
  std::string room;
  std::string user;       // "api:<key name>"
  std::string name;       // the sender's display name
  std::string client_id;  // dedup: one message per (room, user, client_id)
  std::string text;
  uint64_t reply_to = 0;
};

}  // namespace parley::chat
