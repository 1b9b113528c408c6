#include "chat/json_protocol.h"

namespace parley::chat {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadJson:
      return "bad_json";
    case ErrorCode::BadMessage:
      return "bad_message";
    case ErrorCode::UnknownType:
      return "unknown_type";
    case ErrorCode::HelloRequired:
      return "hello_required";
    case ErrorCode::HelloRepeated:
      return "hello_repeated";
    case ErrorCode::NameInvalid:
      return "name_invalid";
    case ErrorCode::RoomInvalid:
      return "room_invalid";
    case ErrorCode::NotInRoom:
      return "not_in_room";
    case ErrorCode::TooManyRooms:
      return "too_many_rooms";
    case ErrorCode::RoomLimit:
      return "room_limit";
    case ErrorCode::Unauthorized:
      return "unauthorized";
    case ErrorCode::TokenExpired:
      return "token_expired";
    case ErrorCode::Forbidden:
      return "forbidden";
    case ErrorCode::TextEmpty:
      return "text_empty";
    case ErrorCode::TextTooLong:
      return "text_too_long";
    case ErrorCode::IdInvalid:
      return "id_invalid";
    case ErrorCode::RateLimited:
      return "rate_limited";
    case ErrorCode::HistoryUnavailable:
      return "history_unavailable";
    case ErrorCode::Internal:
      return "internal";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::NotAuthor:
      return "not_author";
    case ErrorCode::Deleted:
      return "deleted";
    case ErrorCode::LimitReached:
      return "limit_reached";
    case ErrorCode::EmojiInvalid:
      return "emoji_invalid";
    case ErrorCode::FileInvalid:
      return "file_invalid";
    case ErrorCode::FileNotFound:
      return "file_not_found";
    case ErrorCode::Unsupported:
      return "unsupported";
  }
  return "internal";  // unreachable for valid enumerators; keeps -Wreturn-type quiet
}

}  // namespace parley::chat
