#include "chat/redis_codec.h"

#include <simdjson.h>

#include <charconv>

#include "chat/message_log.h"

namespace parley::chat::redis_codec {
namespace {

constexpr std::string_view kPrefix = "parley:{";

std::string tag_of(std::string_view room) {
  if (room.find_first_of("{}") == std::string_view::npos) return std::string(room);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "#";
  for (unsigned char c : room) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

template <class T>
bool parse_number(std::string_view s, T& value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end != s.data();
}

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

bool read_string(simdjson::dom::object o, const char* key, std::string& out) {
  std::string_view v;
  if (o[key].get(v)) return false;
  out = std::string(v);
  return true;
}

EntryKind kind_of(char code) {
  switch (code) {
    case 'e':
      return EntryKind::Edit;
    case 'd':
      return EntryKind::Delete;
    case 'r':
      return EntryKind::React;
    case 'u':
      return EntryKind::Unreact;
    default:
      return EntryKind::Message;
  }
}

bool read_quote(simdjson::dom::object o, Quote& q) {
  uint64_t deleted = 0;
  if (o["i"].get(q.id) || o["d"].get(deleted)) return false;
  if (!read_string(o, "u", q.user) || !read_string(o, "f", q.from) ||
      !read_string(o, "t", q.text)) {
    return false;
  }
  q.deleted = deleted != 0;
  return q.id != 0;
}

bool read_attachment(simdjson::dom::object o, Attachment& a) {
  uint64_t width = 0, height = 0;
  if (!read_string(o, "h", a.file) || !read_string(o, "n", a.name) ||
      !read_string(o, "y", a.type) || o["s"].get(a.size) || o["w"].get(width) ||
      o["ht"].get(height)) {
    return false;
  }
  a.width = static_cast<uint32_t>(width);
  a.height = static_cast<uint32_t>(height);
  return true;
}

// Reads the fields of a stored entry from a parsed object.
bool read_body(simdjson::dom::object o, Message& m) {
  if (!read_string(o, "u", m.user) || !read_string(o, "f", m.from) ||
      !read_string(o, "c", m.client_id) || !read_string(o, "t", m.text)) {
    return false;
  }
  std::string_view kind;
  if (!o["k"].get(kind)) {
    m.kind = kind.size() == 1 ? kind_of(kind[0]) : EntryKind::Message;
    if (m.is_message() || o["g"].get(m.target)) return false;
    uint64_t count = 0;
    if (!o["nr"].get(count)) m.count = static_cast<uint32_t>(count);
    return true;
  }
  simdjson::dom::object quote, attachment;
  if (!o["q"].get(quote) && !read_quote(quote, m.reply)) return false;
  if (!o["a"].get(attachment) && !read_attachment(attachment, m.attachment)) return false;
  return true;
}

bool read_reactions(simdjson::dom::array list, std::vector<Reaction>& out) {
  for (simdjson::dom::element pair : list) {
    simdjson::dom::array p, users;
    std::string_view emoji;
    if (pair.get(p) || p.size() != 2 || p.at(0).get(emoji) || p.at(1).get(users)) return false;
    Reaction& r = out.emplace_back(Reaction{std::string(emoji), {}});
    for (simdjson::dom::element u : users) {
      std::string_view user;
      if (u.get(user)) return false;
      r.users.emplace_back(user);
    }
  }
  return true;
}

}  // namespace

RoomKeys keys_of(std::string_view room) {
  std::string base = std::string(kPrefix) + tag_of(room) + "}:";
  return RoomKeys{base + "seq", base + "log", base + "ev", base + "d:",
                  base + "st",  base + "rq",  base + "sx", base};
}

std::string dedup_key(const RoomKeys& keys, std::string_view user, std::string_view client_id) {
  // User ids never hold ':' followed by a client id's shape ambiguity: the
  // user's length goes first.
  std::string key = keys.dedup_prefix;
  key += std::to_string(user.size());
  key.push_back(':');
  key += user;
  key.push_back(':');
  key += client_id;
  return key;
}

char kind_code(EntryKind kind) {
  switch (kind) {
    case EntryKind::Edit:
      return 'e';
    case EntryKind::Delete:
      return 'd';
    case EntryKind::React:
      return 'r';
    case EntryKind::Unreact:
      return 'u';
    case EntryKind::Message:
      break;
  }
  return 'm';
}

std::string encode_body(const Message& m) {
  std::string out;
  out.reserve(64 + m.user.size() + m.from.size() + m.client_id.size() + m.text.size());
  out.push_back('{');
  if (!m.is_message()) {
    // "k" first: the read script tells a change by its first bytes.
    out += "\"k\":\"";
    out.push_back(kind_code(m.kind));
    out += "\",\"g\":" + std::to_string(m.target) + ",";
  }
  out += "\"u\":";
  append_json_string(out, m.user);
  out += ",\"f\":";
  append_json_string(out, m.from);
  out += ",\"c\":";
  append_json_string(out, m.client_id);
  out += ",\"t\":";
  append_json_string(out, m.text);
  if (m.is_message() && !m.attachment.empty()) {
    const Attachment& a = m.attachment;
    out += ",\"a\":{\"h\":";
    append_json_string(out, a.file);
    out += ",\"n\":";
    append_json_string(out, a.name);
    out += ",\"y\":";
    append_json_string(out, a.type);
    out += ",\"s\":" + std::to_string(a.size) + ",\"w\":" + std::to_string(a.width) +
           ",\"ht\":" + std::to_string(a.height) + "}";
  }
  out.push_back('}');
  return out;
}

bool apply_state(Message& m, std::string_view state) {
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (thread_parser().parse(state.data(), state.size()).get(root) || root.get(o)) return false;
  uint64_t flag = 0;
  if (!o["q"].get(flag) && flag != 0 && m.reply.id != 0) forget_quote(m.reply);
  uint64_t rev = 0;
  if (!o["v"].get(rev)) m.rev = rev;
  if (!o["d"].get(flag) && flag != 0) {
    // What apply_change makes of a deleted message.
    m.deleted = true;
    m.text.clear();
    m.reply = Quote{};
    m.attachment = Attachment{};
    return true;
  }
  std::string_view text;
  if (!o["t"].get(text)) m.text = std::string(text);
  int64_t edited = 0;
  if (!o["e"].get(edited)) m.edited_ms = edited;
  simdjson::dom::array reactions;
  if (!o["x"].get(reactions) && !read_reactions(reactions, m.reactions)) return false;
  return true;
}

std::optional<Quote> decode_quote(std::string_view json) {
  simdjson::dom::element root;
  simdjson::dom::object o;
  Quote q;
  if (thread_parser().parse(json.data(), json.size()).get(root) || root.get(o) ||
      !read_quote(o, q)) {
    return std::nullopt;
  }
  return q;
}

std::optional<Published> decode_published(std::string_view payload) {
  simdjson::dom::element root;
  if (thread_parser().parse(payload.data(), payload.size()).get(root)) return std::nullopt;
  simdjson::dom::object o;
  if (root.get(o)) return std::nullopt;
  Published p;
  std::string_view node;
  uint64_t id = 0;
  int64_t ts = 0;
  if (o["id"].get(id) || o["ts"].get(ts) || o["n"].get(node)) return std::nullopt;
  if (!read_body(o, p.message)) return std::nullopt;
  p.message.id = id;
  p.message.ts_ms = ts;
  p.node = std::string(node);
  return p;
}

bool is_presence(std::string_view payload) {
  // Message events start with "id"; cjson writes the presence keys in any order.
  return payload.substr(0, 6) != "{\"id\":";
}

std::optional<PresenceChangeEvent> decode_presence(std::string_view payload) {
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (thread_parser().parse(payload.data(), payload.size()).get(root) || root.get(o)) {
    return std::nullopt;
  }
  PresenceChangeEvent e;
  std::string_view kind, user, name;
  uint64_t changed = 0;
  if (o["p"].get(kind) || o["s"].get(e.seq) || o["u"].get(user) || o["f"].get(name) ||
      o["uc"].get(e.user_connections) || o["c"].get(e.connections) || o["k"].get(e.users) ||
      o["x"].get(changed)) {
    return std::nullopt;
  }
  if (kind == "j") {
    e.kind = PresenceKind::Joined;
  } else if (kind == "l") {
    e.kind = PresenceKind::Left;
  } else if (kind == "r") {
    e.kind = PresenceKind::Renamed;
    std::string_view old;
    if (o["o"].get(old)) return std::nullopt;
    e.old_name = std::string(old);
  } else {
    return std::nullopt;
  }
  e.user = std::string(user);
  e.name = std::string(name);
  e.user_changed = changed != 0;
  return e;
}

std::optional<Message> decode_entry(redis::Reply entry, std::string_view state) {
  // [ "<id>-0", [ "ts", "<ms>", "m", "<json>" ] ]
  if (entry.size() != 2) return std::nullopt;
  Message m;
  std::string_view id = entry[0].str();
  if (!parse_number(id.substr(0, id.find('-')), m.id)) return std::nullopt;
  redis::Reply fields = entry[1];
  std::string_view body;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::string_view name = fields[i].str();
    if (name == "ts") {
      if (!parse_number(fields[i + 1].str(), m.ts_ms)) return std::nullopt;
    } else if (name == "m") {
      body = fields[i + 1].str();
    }
  }
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (thread_parser().parse(body.data(), body.size()).get(root) || root.get(o)) return std::nullopt;
  if (!read_body(o, m)) return std::nullopt;
  if (!state.empty() && m.is_message() && !apply_state(m, state)) return std::nullopt;
  return m;
}

}  // namespace parley::chat::redis_codec
