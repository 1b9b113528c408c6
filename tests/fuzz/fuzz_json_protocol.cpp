// libFuzzer target for the parley.v1 codec: parse_client_message on any bytes,
// then the encoders on whatever it returns.
//
// Invariants: parsing never crashes or throws; a parsed message satisfies the
// field rules (valid name, room, id, emoji, text within the limit, numbers
// <= 2^53, bounded queries and cursors);
// every field of a parsed message, put through the encoder that carries it to
// other clients, reads back from valid JSON byte for byte; and so does every
// error, with ref/id/room fit to echo (valid UTF-8, bounded). Seeds are plain
// client messages (tests/fuzz/corpus/fuzz_json_protocol/).
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "chat/client_message.h"
#include "chat/emoji.h"
#include "chat/room.h"
#include "chat/server_event.h"
#include "ws/utf8.h"

namespace {

using namespace parley::chat;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// Parses encoder output; kept separate from the codec's own per-thread parser.
simdjson::dom::element decode(const std::string& json) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  check(!parser.parse(json).get(root), "encoder output is valid JSON");
  check(root.is_object(), "encoder output is an object");
  return root;
}

std::string_view field(simdjson::dom::element object, std::string_view key) {
  std::string_view value;
  check(!object[key].get(value), "encoded field reads back as a string");
  return value;
}

void check_echo(std::string_view s, std::size_t max_bytes, const char* what) {
  check(s.size() <= max_bytes && parley::ws::is_valid_utf8(s), what);
}

void check_error(const ParseError& error) {
  check(!error.message.empty(), "error has a message");
  check_echo(error.ref, 64, "ref is short UTF-8");
  check(error.id.empty() || is_valid_client_id(error.id), "echoed id is valid");
  check(error.room.empty() || is_valid_room_name(error.room), "echoed room is valid");
  const simdjson::dom::element root = decode(encode_error(error));
  check(field(root, "type") == "error", "error type");
  check(field(root, "code") == error_code_name(error.code), "error code round-trips");
  check(field(root, "message") == error.message, "error message round-trips");
  if (!error.ref.empty()) check(field(root, "ref") == error.ref, "ref round-trips");
  if (!error.id.empty()) check(field(root, "id") == error.id, "id round-trips");
  if (!error.room.empty()) check(field(root, "room") == error.room, "room round-trips");
}

// Each message is re-encoded the way the server would pass it on.
void check_message(const ClientMessage& message, const ParseLimits& limits) {
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Hello> || std::is_same_v<T, Rename>) {
          check(is_valid_name(m.name), "parsed name is valid");
          const std::string json =
              encode_presence({"r", PresenceKind::Renamed, "u", m.name, m.name, 1, 1});
          check(field(decode(json), "name") == m.name, "name round-trips");
          if constexpr (std::is_same_v<T, Hello>) {
            check(m.resume.size() <= 128, "resume token is bounded");
            const WelcomeView welcome{"s", "u", m.resume, m.name, "parley/0", {}, {}, 0};
            check(field(decode(encode_welcome(welcome)), "resume") == m.resume,
                  "resume round-trips");
          }
        } else if constexpr (std::is_same_v<T, Send>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(is_valid_client_id(m.id), "parsed id is valid");
          check((!m.text.empty() || !m.file.empty()) && m.text.size() <= limits.max_text_bytes,
                "text within limits (empty only with a file)");
          check(m.file.empty() || (is_file_id(m.file) && check_file_name(m.file_name)),
                "a file is a file id with a valid name");
          check(parley::ws::is_valid_utf8(m.text), "text is UTF-8 (it goes out in a text frame)");
          check(m.reply_to <= kMaxSafeInteger, "reply_to <= 2^53");
          Message out{1, 2, "u", "f", m.id, m.text};
          out.reply = Quote{m.reply_to, "u", m.id, m.text, false};  // a quote of any text
          if (!m.file.empty())
            out.attachment = Attachment{m.file, m.file_name, 1, "image/png", 2, 1};
          const simdjson::dom::element root = decode(encode_message(m.room, out));
          check(field(root, "text") == m.text, "text round-trips");
          check(field(root, "id") == m.id, "id round-trips");
          check(field(root, "room") == m.room, "room round-trips");
          if (m.reply_to != 0) {
            check(field(root["reply_to"], "text") == m.text, "quote round-trips");
          }
          if (!m.file.empty()) {
            check(field(root["attachment"], "name") == m.file_name, "file name round-trips");
          }
          check(encoded_message_size(m.room, out) == encode_message(m.room, out).size(),
                "encoded size is exact");
        } else if constexpr (std::is_same_v<T, Edit> || std::is_same_v<T, Delete> ||
                             std::is_same_v<T, React> || std::is_same_v<T, Unreact>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(is_valid_client_id(m.id), "parsed id is valid");
          check(m.target >= 1 && m.target <= kMaxSafeInteger, "target in range");
          Message change{3, 4, "u", "f", m.id, {}};
          change.target = m.target;
          if constexpr (std::is_same_v<T, Edit>) {
            check(!m.text.empty() && m.text.size() <= limits.max_text_bytes, "text within limits");
            change.kind = EntryKind::Edit;
            change.text = m.text;
          } else if constexpr (std::is_same_v<T, Delete>) {
            change.kind = EntryKind::Delete;
          } else {
            check(check_emoji(m.emoji).ok(), "parsed emoji is valid");
            check(m.emoji.size() <= kMaxEmojiBytes, "emoji bounded");
            change.kind = std::is_same_v<T, React> ? EntryKind::React : EntryKind::Unreact;
            change.text = m.emoji;
            // The state of a message with that reaction, for a viewer who made it.
            Message state{5, 6, "u", "f", m.id, "t"};
            state.reactions = {Reaction{m.emoji, {"u"}}};
            const std::string json = encode_message(m.room, state, "u");
            check(json.size() == encoded_message_size(m.room, state, "u"), "state size is exact");
            decode(json);
          }
          const simdjson::dom::element root = decode(encode_message(m.room, change));
          check(field(root, "id") == m.id, "id round-trips");
          if (!change.text.empty()) {
            check(field(root, change.kind == EntryKind::Edit ? "text" : "emoji") == change.text,
                  "text or emoji round-trips");
          }
          check(encoded_message_size(m.room, change) == encode_message(m.room, change).size(),
                "encoded size is exact");
        } else if constexpr (std::is_same_v<T, SearchRequest>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(!m.query.empty() && m.query.size() <= 4 * kMaxSearchCodePoints, "query bounded");
          check(m.limit >= 1 && m.limit <= limits.search_page_max, "limit in range");
          check(m.before <= kMaxSafeInteger, "before <= 2^53");
          const std::string json =
              encode_search_results({m.room, m.query, {}, true, m.before, m.query});
          check(field(decode(json), "query") == m.query, "query round-trips");
        } else if constexpr (std::is_same_v<T, RoomsRequest>) {
          check(m.query.size() <= 4 * kMaxRoomsQueryCodePoints, "query bounded");
          check(m.after.size() <= kMaxRoomsCursorBytes, "cursor bounded");
          check(m.limit >= 1 && m.limit <= kMaxRoomsLimit, "limit in range");
          const RoomSummary one{m.query, 1, 2};
          const std::string json = encode_rooms({{&one, 1}, m.after, 1});
          check(m.after.empty() || field(decode(json), "next") == m.after, "cursor round-trips");
        } else if constexpr (std::is_same_v<T, Join>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(!m.since || *m.since <= kMaxSafeInteger, "since <= 2^53");
          check(field(decode(
                          encode_joined({m.room, "you", {}, {}, false, m.since.value_or(0), 1, 1})),
                      "room") == m.room,
                "room round-trips");
        } else if constexpr (std::is_same_v<T, HistoryRequest>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(m.anchor <= kMaxSafeInteger, "anchor <= 2^53");
          check(m.limit >= 1 && m.limit <= limits.history_page_max, "limit in range");
          check(field(decode(encode_history(m.room, {}, false)), "room") == m.room,
                "room round-trips");
          const HistoryView around{m.room, {}, false, {}, true};
          check(field(decode(encode_history(around)), "room") == m.room, "room round-trips");
        } else if constexpr (std::is_same_v<T, MembersRequest>) {
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(m.limit >= 1 && m.limit <= kMaxMembersLimit, "limit in range");
          check(m.after.size() <= kMaxMembersCursorBytes, "cursor bounded");
          const MemberView one{"u", m.after};
          const std::string json = encode_members({m.room, {&one, 1}, m.after, 1, 1});
          check(m.after.empty() || field(decode(json), "next") == m.after, "cursor round-trips");
        } else if constexpr (std::is_same_v<T, Refresh>) {
          check(!m.token.empty(), "refresh carries a token");
        } else {  // Leave, Typing
          check(is_valid_room_name(m.room), "parsed room is valid");
          check(field(decode(encode_typing(m.room, "u", "f")), "room") == m.room,
                "room round-trips");
        }
      },
      message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : input) hash = (hash ^ c) * 1099511628211ull;

  // Small limits now and then, so the text and limit edges are reachable.
  ParseLimits limits;
  if (hash % 4 == 0) {
    limits.max_text_bytes = hash % 16;
    limits.history_page_max = 1 + static_cast<uint32_t>((hash >> 8) % 8);
    limits.search_page_max = 1 + static_cast<uint32_t>((hash >> 12) % 8);
  }

  const ParseResult result = parse_client_message(input, limits);
  if (const auto* error = std::get_if<ParseError>(&result)) {
    check_error(*error);
  } else {
    const ClientMessage& message = std::get<ClientMessage>(result);
    check(!type_name(message).empty(), "parsed message has a type");
    check_message(message, limits);
  }
  // The same input parses the same way again: nothing leaks between calls
  // through the per-thread parser and buffer.
  const ParseResult again = parse_client_message(input, limits);
  check(result.index() == again.index(), "parsing is deterministic");
  return 0;
}
