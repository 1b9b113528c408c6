#include "chat/server_event.h"

#include <algorithm>

#include "chat/json_writer.h"

namespace parley::chat {
namespace {

using JsonObject = json::Object<std::string>;

// Room for the keys, punctuation and numbers of an event: reserving this plus
// the string lengths makes one allocation enough unless strings need escapes.
constexpr std::size_t kEventOverhead = 128;
constexpr std::size_t kMemberOverhead = 24;
constexpr std::size_t kLimitsOverhead = 200;

// Starts an event: every event's first field is its type.
JsonObject event(std::string& out, std::string_view type, std::size_t payload_bytes) {
  out.reserve(kEventOverhead + payload_bytes);
  JsonObject object(out);
  object.string("type", type);
  return object;
}

constexpr std::size_t kEntryOverhead = 160;
constexpr std::size_t kReactionOverhead = 32;

std::string_view entry_type(EntryKind kind) {
  switch (kind) {
    case EntryKind::Message:
      return "message";
    case EntryKind::Edit:
      return "message_edited";
    case EntryKind::Delete:
      return "message_deleted";
    case EntryKind::React:
    case EntryKind::Unreact:
      return "reaction";
  }
  return "message";  // unreachable for valid enumerators
}

// Room to reserve for an entry (exact lengths come from a ByteCounter).
std::size_t entry_bytes(std::string_view room, const Message& m) {
  std::size_t n = kEntryOverhead + room.size() + m.user.size() + m.from.size() + m.text.size() +
                  m.client_id.size() + m.reply.user.size() + m.reply.from.size() +
                  m.reply.text.size() + m.attachment.bytes();
  for (const Reaction& r : m.reactions) n += kReactionOverhead + r.emoji.size();
  return n;
}

std::size_t entries_bytes(std::string_view room, std::span<const Message> entries) {
  std::size_t total = 0;
  for (const Message& m : entries) total += entry_bytes(room, m);
  return total;
}

template <class Out>
void write_quote(Out& out, const Quote& q) {
  json::Object<Out> object(out);
  object.unsigned_int("msg_id", q.id).string("user", q.user).string("from", q.from);
  object.string("text", q.text);
  if (q.deleted) object.boolean("deleted", true);
  object.close();
}

template <class Out>
void write_attachment(Out& out, const Attachment& a) {
  json::Object<Out> object(out);
  object.string("file", a.file).string("name", a.name).unsigned_int("size", a.size);
  object.string("type", a.type);
  if (a.width != 0 && a.height != 0) {
    object.unsigned_int("width", a.width).unsigned_int("height", a.height);
  }
  object.close();
}

template <class Out>
void write_reactions(Out& out, const std::vector<Reaction>& reactions, std::string_view viewer) {
  out += '[';
  for (std::size_t i = 0; i < reactions.size(); ++i) {
    const Reaction& r = reactions[i];
    if (i > 0) out += ',';
    json::Object<Out> object(out);
    object.string("emoji", r.emoji).unsigned_int("count", r.users.size());
    if (!viewer.empty() && std::find(r.users.begin(), r.users.end(), viewer) != r.users.end()) {
      object.boolean("me", true);
    }
    object.close();
  }
  out += ']';
}

// A message's optional fields, present only when they say something.
template <class Out>
void write_state(json::Object<Out>& object, const Message& m, std::string_view viewer) {
  if (m.reply.id != 0) write_quote(object.start("reply_to"), m.reply);
  if (!m.attachment.empty()) write_attachment(object.start("attachment"), m.attachment);
  if (m.edited_ms != 0) object.signed_int("edited", m.edited_ms);
  if (m.deleted) object.boolean("deleted", true);
  if (!m.reactions.empty()) write_reactions(object.start("reactions"), m.reactions, viewer);
  if (m.rev != 0) object.unsigned_int("rev", m.rev);
}

template <class Out>
void write_entry(Out& out, std::string_view room, const Message& m, std::string_view viewer) {
  json::Object<Out> object(out);
  object.string("type", entry_type(m.kind))
      .string("room", room)
      .unsigned_int("msg_id", m.id)
      .signed_int("ts", m.ts_ms)
      .string("user", m.user)
      .string("from", m.from);
  if (m.is_message()) {
    object.string("text", m.text).string("id", m.client_id);
    write_state(object, m, viewer);
  } else {
    object.string("id", m.client_id).unsigned_int("target", m.target);
    if (m.kind == EntryKind::Edit) object.string("text", m.text);
    if (m.kind == EntryKind::React || m.kind == EntryKind::Unreact) {
      object.string("emoji", m.text)
          .boolean("added", m.kind == EntryKind::React)
          .unsigned_int("count", m.count);
    }
  }
  object.close();
}

// Writes entries as a JSON array element by element, for Object::array.
auto entry_writer(std::string_view room, std::string_view viewer) {
  return [room, viewer](std::string& out, const Message& m) { write_entry(out, room, m, viewer); };
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
      .unsigned_int("search_page_max", w.limits.search_page_max)
      .unsigned_int("max_reaction_emoji", w.limits.max_reaction_emoji)
      .unsigned_int("max_reactions", w.limits.max_reactions)
      .unsigned_int("quote_chars", w.limits.quote_chars)
      .unsigned_int("max_upload_bytes", w.limits.max_upload_bytes)
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
  event(out, "joined", j.room.size() + j.you.size() + members + entries_bytes(j.room, j.history))
      .string("room", j.room)
      .string("you", j.you)
      .array("members", j.members, write_member)
      .array("history", j.history, entry_writer(j.room, j.viewer))
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

std::string encode_message(std::string_view room, const Message& m, std::string_view viewer) {
  std::string out;
  out.reserve(entry_bytes(room, m));
  write_entry(out, room, m, viewer);
  return out;
}

std::size_t encoded_message_size(std::string_view room, const Message& m, std::string_view viewer) {
  json::ByteCounter counter;
  write_entry(counter, room, m, viewer);
  return counter.size;
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

std::string encode_history(const HistoryView& h) {
  std::string out;
  JsonObject object = event(out, "history", h.room.size() + entries_bytes(h.room, h.messages));
  object.string("room", h.room)
      .array("messages", h.messages, entry_writer(h.room, h.viewer))
      .boolean("truncated", h.truncated);
  if (h.newer) object.boolean("newer", *h.newer);
  object.close();
  return out;
}

std::string encode_history(std::string_view room, std::span<const Message> messages,
                           bool truncated) {
  return encode_history(HistoryView{room, messages, truncated});
}

std::string encode_search_results(const SearchResultsView& r) {
  std::string out;
  JsonObject object = event(out, "search_results",
                            r.room.size() + r.query.size() + entries_bytes(r.room, r.messages));
  object.string("room", r.room)
      .string("query", r.query)
      .array("messages", r.messages, entry_writer(r.room, r.viewer))
      .boolean("truncated", r.truncated);
  if (r.truncated) object.unsigned_int("next", r.next);
  object.close();
  return out;
}

std::string encode_rooms(const RoomsView& p) {
  std::size_t rooms = 0;
  for (const RoomSummary& r : p.rooms) rooms += kMemberOverhead + r.room.size() + 40;
  std::string out;
  JsonObject object = event(out, "rooms", rooms + p.next.size());
  object.array("rooms", p.rooms, [](std::string& o, const RoomSummary& r) {
    JsonObject(o)
        .string("room", r.room)
        .unsigned_int("users", r.users)
        .unsigned_int("online", r.online)
        .close();
  });
  if (!p.next.empty()) object.string("next", p.next);
  object.unsigned_int("total", p.total).close();
  return out;
}

std::string encode_token_expiring(int64_t expires_at, int64_t in) {
  std::string out;
  event(out, "token_expiring", 0).signed_int("expires_at", expires_at).signed_int("in", in).close();
  return out;
}

std::string encode_kicked(std::string_view room) {
  std::string out;
  event(out, "kicked", room.size()).string("room", room).close();
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
