#include "chat/attachment.h"

#include <algorithm>

#include "ws/utf8.h"

namespace parley::chat {

bool is_file_id(std::string_view id) {
  return id.size() == kFileIdChars && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status check_file_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameBytes) {
    return Error{Errc::Invalid, "a file name is 1-255 bytes"};
  }
  if (!ws::is_valid_utf8(name)) return Error{Errc::Invalid, "a file name must be UTF-8"};
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
      return Error{Errc::Invalid, "a file name holds no control characters, `/` or `\\`"};
    }
  }
  return {};
}

}  // namespace parley::chat
