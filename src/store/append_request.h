// One message to store, and what the store answers once it is durable.
#pragma once

#include <cstdint>
#include <string>

namespace parley::store {

// Entries of a room's log (docs/PROTOCOL.md, "The room's log"): a message, or a change of an
// earlier message of the room. The values are stored in messages.kind.
enum class EntryKind : uint8_t { kMessage = 0, kEdit = 1, kDelete = 2, kReact = 3, kUnreact = 4 };

// Why a change (or a reply) was not stored; the chat maps these to its own refusals.
enum class Refusal : uint8_t { kNone = 0, kNotFound, kNotAuthor, kDeleted, kLimitReached };

// A reply's quote of the message it answers, as stored with the reply.
struct StoredQuote {
  std::string user_id{};
  std::string sender_name{};
  std::string text{};
  bool deleted = false;
};

// A file attached to a message (chat/attachment.h): its content hash and what the file store
// said of it when the sender claimed it. `file` empty: no attachment.
struct StoredAttachment {
  std::string file{};  // SHA-256 of the file, lowercase hex
  std::string name{};  // as the sender named it
  uint64_t size = 0;
  std::string type{};  // sniffed media type
  uint32_t width = 0;  // images: pixels, when known
  uint32_t height = 0;
};

// A message of a room that showed a file (store/file_store.h counts them).
struct FileRef {
  std::string room{};
  uint64_t msg_id = 0;
  std::string file{};
};

struct AppendRequest {
  std::string room{};
  std::string user_id{};
  std::string sender_name{};
  // Chosen by the client so a resend after a reconnect is stored once. Empty = no dedup.
  // Ids that start with a timestamp ("<ms, hex>-<counter>") are cheapest: they append to the
  // dedup index instead of landing on a random page of it.
  std::string client_id{};
  std::string text{};  // a message's text; an edit's new text; a reaction's emoji
  int64_t ts_ms = 0;   // 0 = the store stamps the wall-clock time of the write
  EntryKind kind = EntryKind::kMessage;
  // A change: the message it changes. A message: the message it replies to (0: none).
  uint64_t target = 0;
  StoredAttachment attachment{};  // a message's file (schema step 4)
};

// A committed append (failures are the Error of a Result<AppendResult>).
struct AppendResult {
  uint64_t id = 0;
  int64_t ts_ms = 0;
  // (room, user_id, client_id) was stored before: id/ts_ms are the original's, nothing was stored.
  // Also a reaction change with nothing to do: id/ts_ms are then the target's.
  bool duplicate = false;
  // Not stored: the change (or reply) breaks a rule of the room's log; nothing was stored and no
  // id used up. The batch's other appends are not affected.
  Refusal refusal = Refusal::kNone;
  StoredQuote quote{};    // a reply: its quote
  uint32_t count = 0;     // a react/unreact: reactions with its emoji after it
  uint64_t reply_to = 0;  // a reply: the message it answers (0 once the reply is deleted)
};

// What a message weighs in its room's size (rooms.bytes), which the cap on the database compares
// rooms by: its strings plus a fixed share for the row's keys and b-tree cells. An estimate of
// its disk use; the cap corrects it against the file's real size. kStoredBytesSql is the same
// sum over a row of `messages`, and schema step 2 computed it for rows stored before it (an
// attachment's strings, schema step 4, were all '' then).
constexpr uint64_t kRowOverheadBytes = 32;
inline uint64_t stored_bytes(const AppendRequest& m) {
  return kRowOverheadBytes + m.room.size() + m.user_id.size() + m.sender_name.size() +
         m.client_id.size() + m.text.size() + m.attachment.file.size() + m.attachment.name.size() +
         m.attachment.type.size();
}
// length(CAST(x AS BLOB)) counts bytes; length(x) on TEXT counts characters up to a NUL.
inline constexpr const char* kStoredBytesSql =
    "(32 + length(CAST(room AS BLOB)) + length(CAST(user_id AS BLOB))"
    " + length(CAST(sender_name AS BLOB)) + length(CAST(client_id AS BLOB))"
    " + length(CAST(text AS BLOB)) + length(CAST(file AS BLOB))"
    " + length(CAST(file_name AS BLOB)) + length(CAST(file_type AS BLOB)))";

}  // namespace parley::store
