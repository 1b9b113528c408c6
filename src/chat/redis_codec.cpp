#include "chat/redis_codec.h"

#include <simdjson.h>

#include <charconv>

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

// Reads the four fields of a stored message from a parsed object.
bool read_body(simdjson::dom::object o, Message& m) {
  std::string_view user, from, client_id, text;
  if (o["u"].get(user) || o["f"].get(from) || o["c"].get(client_id) || o["t"].get(text)) {
    return false;
  }
  m.user = std::string(user);
  m.from = std::string(from);
  m.client_id = std::string(client_id);
  m.text = std::string(text);
  return true;
}

}  // namespace

RoomKeys keys_of(std::string_view room) {
  std::string base = std::string(kPrefix) + tag_of(room) + "}:";
  return RoomKeys{base + "seq", base + "log", base + "ev", base + "d:", base};
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

std::string encode_body(const Message& m) {
  std::string out;
  out.reserve(32 + m.user.size() + m.from.size() + m.client_id.size() + m.text.size());
  out += "{\"u\":";
  append_json_string(out, m.user);
  out += ",\"f\":";
  append_json_string(out, m.from);
  out += ",\"c\":";
  append_json_string(out, m.client_id);
  out += ",\"t\":";
  append_json_string(out, m.text);
  out.push_back('}');
  return out;
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

std::optional<Message> decode_entry(redis::Reply entry) {
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
  return m;
}

}  // namespace parley::chat::redis_codec
