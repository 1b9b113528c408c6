#include "chat/server_event.h"

#include <charconv>
#include <cmath>

namespace parley::chat {
namespace {

// Room for the keys, punctuation and numbers of an event: reserving this plus
// the string lengths makes one allocation enough unless strings need escapes.
constexpr std::size_t kEventOverhead = 128;
constexpr std::size_t kMessageOverhead = 128;
constexpr std::size_t kMemberOverhead = 24;
constexpr std::size_t kLimitsOverhead = 160;

void append_escaped(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escape, sizeof escape);
    }
  }
}

// Appends `s` as a JSON string. Bytes that need no escape (nearly all) are
// copied in runs rather than one at a time.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    append_escaped(out, c);
    run = i + 1;
  }
  out.append(s.substr(run));
  out += '"';
}

template <typename Number>
void append_number(std::string& out, Number value) {
  char digits[32];  // the longest double is 24 characters
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Writes one JSON object into `out`, field by field. Keys are literals of this
// file and never need escaping.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }

  JsonObject& string(std::string_view key, std::string_view value) {
    append_json_string(start(key), value);
    return *this;
  }
  JsonObject& unsigned_int(std::string_view key, uint64_t value) {
    append_number(start(key), value);
    return *this;
  }
  JsonObject& signed_int(std::string_view key, int64_t value) {
    append_number(start(key), value);
    return *this;
  }
  // Shortest form that reads back exactly (to_chars); JSON has no NaN or
  // infinity, so those become null.
  JsonObject& number(std::string_view key, double value) {
    std::string& out = start(key);
    if (std::isfinite(value)) {
      append_number(out, value);
    } else {
      out += "null";
    }
    return *this;
  }
  JsonObject& boolean(std::string_view key, bool value) {
    start(key) += value ? "true" : "false";
    return *this;
  }
  // An array of objects, each written by write(out, element).
  template <typename T, typename Write>
  JsonObject& array(std::string_view key, std::span<const T> elements, Write write) {
    start(key) += '[';
    for (std::size_t i = 0; i < elements.size(); ++i) {
      if (i > 0) out_ += ',';
      write(out_, elements[i]);
    }
    out_ += ']';
    return *this;
  }
  // Writes "key": and returns the output for a nested value.
  std::string& start(std::string_view key) {
    if (!empty_) out_ += ',';
    empty_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return out_;
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool empty_ = true;
};

// Starts an event: every event's first field is its type.
JsonObject event(std::string& out, std::string_view type, std::size_t payload_bytes) {
  out.reserve(kEventOverhead + payload_bytes);
  JsonObject object(out);
  object.string("type", type);
  return object;
}

std::size_t message_bytes(std::string_view room, const Message& m) {
  return kMessageOverhead + room.size() + m.user.size() + m.from.size() + m.text.size() +
         m.client_id.size();
}

std::size_t messages_bytes(std::string_view room, std::span<const Message> messages) {
  std::size_t total = 0;
  for (const Message& m : messages) total += message_bytes(room, m);
  return total;
}

void write_message(std::string& out, std::string_view room, const Message& m) {
  JsonObject object(out);
  object.string("type", "message")
      .string("room", room)
      .unsigned_int("msg_id", m.id)
      .signed_int("ts", m.ts_ms)
      .string("user", m.user)
      .string("from", m.from)
      .string("text", m.text)
      .string("id", m.client_id)
      .close();
}

// Length of `s` as a JSON string, quotes included (see append_json_string).
std::size_t json_string_size(std::string_view s) {
  std::size_t n = s.size() + 2;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    bool short_escape =
        c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t';
    n += short_escape ? 1 : 5;
  }
  return n;
}

std::size_t number_size(uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) v /= 10, ++n;
  return n;
}

void write_member(std::string& out, const MemberView& m) {
  JsonObject(out).string("user", m.user).string("name", m.name).close();
}

std::string_view presence_event_name(PresenceKind event) {
  switch (event) {
    case PresenceKind::Joined:
      return "joined";
    case PresenceKind::Left:
      return "left";
    case PresenceKind::Renamed:
      return "renamed";
  }
  return "joined";  // unreachable for valid enumerators
}

}  // namespace

std::string encode_welcome(const WelcomeView& w) {
  std::string out;
  JsonObject object = event(out, "welcome",
                            kLimitsOverhead + w.session.size() + w.user.size() + w.resume.size() +
                                w.name.size() + w.server.size());
  object.string("session", w.session)
      .string("user", w.user)
      .string("resume", w.resume)
      .string("name", w.name);
  object.string("server", w.server).unsigned_int("protocol", kJsonProtocolVersion);
  JsonObject limits(object.start("limits"));
  limits.unsigned_int("max_message_bytes", w.limits.max_message_bytes)
      .unsigned_int("max_text_bytes", w.limits.max_text_bytes)
      .unsigned_int("max_rooms", w.limits.max_rooms)
      .unsigned_int("history_page_max", w.limits.history_page_max)
      .number("rate_per_sec", w.limits.rate_per_sec)
      .number("rate_burst", w.limits.rate_burst)
      .close();
  if (!w.auth.empty()) object.string("auth", w.auth).signed_int("expires_at", w.expires_at);
  object.close();
  return out;
}

std::string encode_joined(const JoinedView& j) {
  std::size_t members = 0;
  for (const MemberView& m : j.members) members += kMemberOverhead + m.user.size() + m.name.size();
  std::string out;
  auto write = [room = j.room](std::string& o, const Message& m) { write_message(o, room, m); };
  event(out, "joined", j.room.size() + j.you.size() + members + messages_bytes(j.room, j.history))
      .string("room", j.room)
      .string("you", j.you)
      .array("members", j.members, write_member)
      .array("history", j.history, write)
      .boolean("truncated", j.truncated)
      .unsigned_int("last_id", j.last_id)
      .unsigned_int("online", j.online)
      .unsigned_int("users", j.users)
      .close();
  return out;
}

std::string encode_left(std::string_view room) {
  std::string out;
  event(out, "left", room.size()).string("room", room).close();
  return out;
}

std::string encode_ack(const AckView& a) {
  std::string out;
  event(out, "ack", a.room.size() + a.id.size())
      .string("room", a.room)
      .string("id", a.id)
      .unsigned_int("msg_id", a.msg_id)
      .signed_int("ts", a.ts)
      .boolean("duplicate", a.duplicate)
      .close();
  return out;
}

std::string encode_message(std::string_view room, const Message& m) {
  std::string out;
  out.reserve(message_bytes(room, m));
  write_message(out, room, m);
  return out;
}

std::size_t encoded_message_size(std::string_view room, const Message& m) {
  // {"type":"message","room":R,"msg_id":N,"ts":T,"user":U,"from":F,"text":X,"id":I}
  constexpr std::size_t kKeys =
      sizeof(R"({"type":"message","room":,"msg_id":,"ts":,"user":,"from":,"text":,"id":})") - 1;
  std::size_t ts = m.ts_ms < 0 ? 1 + number_size(static_cast<uint64_t>(-(m.ts_ms + 1)) + 1)
                               : number_size(static_cast<uint64_t>(m.ts_ms));
  return kKeys + json_string_size(room) + number_size(m.id) + ts + json_string_size(m.user) +
         json_string_size(m.from) + json_string_size(m.text) + json_string_size(m.client_id);
}

std::string encode_presence(const PresenceView& p) {
  std::string out;
  JsonObject object =
      event(out, "presence", p.room.size() + p.user.size() + p.name.size() + p.old.size());
  object.string("room", p.room)
      .string("event", presence_event_name(p.event))
      .string("user", p.user)
      .string("name", p.name);
  if (p.event == PresenceKind::Renamed) object.string("old", p.old);
  object.unsigned_int("online", p.online).unsigned_int("users", p.users).close();
  return out;
}

std::string encode_members(const MembersView& p) {
  std::size_t members = 0;
  for (const MemberView& m : p.members) members += kMemberOverhead + m.user.size() + m.name.size();
  std::string out;
  JsonObject object = event(out, "members", p.room.size() + members + p.next.size());
  object.string("room", p.room).array("members", p.members, write_member);
  if (!p.next.empty()) object.string("next", p.next);
  object.unsigned_int("online", p.online).unsigned_int("users", p.users).close();
  return out;
}

std::string encode_presence_batch(const PresenceBatchView& b) {
  std::size_t members = 0;
  for (const MemberView& m : b.joined) members += kMemberOverhead + m.user.size() + m.name.size();
  for (const MemberView& m : b.left) members += kMemberOverhead + m.user.size() + m.name.size();
  std::string out;
  event(out, "presence_batch", b.room.size() + members)
      .string("room", b.room)
      .array("joined", b.joined, write_member)
      .array("left", b.left, write_member)
      .unsigned_int("more_joined", b.more_joined)
      .unsigned_int("more_left", b.more_left)
      .unsigned_int("online", b.online)
      .unsigned_int("users", b.users)
      .close();
  return out;
}

std::string encode_typing(std::string_view room, std::string_view user, std::string_view from) {
  std::string out;
  event(out, "typing", room.size() + user.size() + from.size())
      .string("room", room)
      .string("user", user)
      .string("from", from)
      .close();
  return out;
}

std::string encode_history(std::string_view room, std::span<const Message> messages,
                           bool truncated) {
  std::string out;
  auto write = [room](std::string& o, const Message& m) { write_message(o, room, m); };
  event(out, "history", room.size() + messages_bytes(room, messages))
      .string("room", room)
      .array("messages", messages, write)
      .boolean("truncated", truncated)
      .close();
  return out;
}

std::string encode_token_expiring(int64_t expires_at, int64_t in) {
  std::string out;
  event(out, "token_expiring", 0).signed_int("expires_at", expires_at).signed_int("in", in).close();
  return out;
}

std::string encode_refreshed(int64_t expires_at) {
  std::string out;
  event(out, "refreshed", 0).signed_int("expires_at", expires_at).close();
  return out;
}

std::string encode_error(ErrorCode code, std::string_view message, std::string_view ref,
                         std::string_view id, std::string_view room, std::string_view reason) {
  std::string out;
  JsonObject object =
      event(out, "error", message.size() + ref.size() + id.size() + room.size() + reason.size());
  object.string("code", error_code_name(code)).string("message", message);
  if (!ref.empty()) object.string("ref", ref);
  if (!id.empty()) object.string("id", id);
  if (!room.empty()) object.string("room", room);
  if (!reason.empty()) object.string("reason", reason);
  object.close();
  return out;
}

std::string encode_error(const ParseError& e) {
  return encode_error(e.code, e.message, e.ref, e.id, e.room);
}

}  // namespace parley::chat
