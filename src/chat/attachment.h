// A file attached to a message (docs/PROTOCOL.md, "Attachments"), and the seam
// through which the chat reaches the server's file store without knowing it.
//
// A client uploads a file over HTTP first (POST /upload, docs/SECURITY.md
// "Uploads"), gets its content hash back, and names that hash in a `send`.
// The chat then asks Attachments::claim whether the file exists and was
// uploaded by this user (so nobody attaches a file only known by its hash),
// and takes its size, type and image size from the store, never from the
// client. When the message is stored, the room tells the store which message
// references the file (referenced); when it is deleted, that the reference
// is gone (released), and the store removes the file once no message
// references it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace parley::chat {

inline constexpr std::size_t kFileIdChars = 64;  // SHA-256 in lowercase hex
inline constexpr std::size_t kMaxFileNameBytes = 255;

struct Attachment {
  std::string file{};  // the content hash; "" when the message has no attachment
  std::string name{};  // the name the sender gave it
  uint64_t size = 0;
  std::string type{};  // the sniffed media type (image/png, ..., application/octet-stream)
  uint32_t width = 0;  // images: their size in pixels when the header says; else 0
  uint32_t height = 0;

  bool empty() const { return file.empty(); }
  std::size_t bytes() const { return file.capacity() + name.capacity() + type.capacity(); }
};

// 64 lowercase hex digits.
bool is_file_id(std::string_view id);

// A file name: 1-255 bytes of valid UTF-8 without control characters, `/`
// or `\`. Errc::Invalid saying which rule is broken.
Status check_file_name(std::string_view name);

class Attachments {
 public:
  virtual ~Attachments() = default;
  // Any thread. The file `file` as `user` may attach it: the description to
  // store with the message, or Errc::NotFound (no such file, or not
  // uploaded by this user).
  virtual Result<Attachment> claim(std::string_view user, std::string_view file) = 0;
  // Any thread. Message `msg_id` of `room`, sent by `user`, was stored with
  // `file` attached.
  virtual void referenced(std::string_view room, uint64_t msg_id, std::string_view file,
                          std::string_view user) = 0;
  // Any thread. Message `msg_id` of `room` was deleted: its file, if any, is
  // released.
  virtual void released(std::string_view room, uint64_t msg_id) = 0;
};

}  // namespace parley::chat
