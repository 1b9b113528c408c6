#include "chat/room.h"

#include <algorithm>
#include <optional>

#include "http/query.h"
#include "text/unicode.h"

namespace parley::chat {

namespace {

constexpr std::size_t kMaxRoomCodePoints = 64;
constexpr std::size_t kMaxRoomBytes = kMaxRoomCodePoints * 4;
// A segment longer than this cannot decode to a room name, whatever its form.
constexpr std::size_t kMaxRoomSegmentBytes = kMaxRoomBytes * 3 * 2;

bool is_room_punctuation(char32_t c) {
  return c == '.' || c == '_' || c == '-';
}

Error room_invalid(std::string message) {
  return Error{Errc::Invalid, std::move(message)};
}

Status check_ascii_room_name(std::string_view name) {
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          is_room_punctuation(static_cast<char32_t>(c)))) {
      return room_invalid("room names hold letters, digits, marks and . _ - only");
    }
  }
  return {};
}

Status check_unicode_room_name(std::string_view name) {
  std::size_t count = 0;
  std::string_view problem;
  const bool utf8 = unicode::for_each_code_point(name, [&](const unicode::CodePoint& cp) {
    const bool allowed = cp.cls == unicode::Class::Letter || cp.cls == unicode::Class::Number ||
                         (cp.cls == unicode::Class::Mark && count > 0) ||
                         is_room_punctuation(cp.value);
    if (cp.ignorable) {
      problem = "room names cannot hold invisible characters";
    } else if (!allowed) {
      problem = cp.cls == unicode::Class::Mark
                    ? "a room name cannot start with a combining mark"
                    : "room names hold letters, digits, marks and . _ - only";
    }
    return problem.empty() && ++count <= kMaxRoomCodePoints;
  });
  if (!utf8) return room_invalid("room names must be valid UTF-8");
  if (!problem.empty()) return room_invalid(std::string(problem));
  if (count > kMaxRoomCodePoints) return room_invalid("room names are at most 64 characters");
  if (!unicode::is_nfc(name)) {
    return room_invalid("room names must be in Unicode NFC (JavaScript: name.normalize())");
  }
  return {};
}

}  // namespace

Status check_room_name(std::string_view name) {
  if (name.empty()) return room_invalid("room names are 1-64 characters");
  if (name.size() > kMaxRoomBytes) return room_invalid("room names are at most 64 characters");
  if (name.find_first_not_of('.') == std::string_view::npos) {
    return room_invalid("a room name cannot be only dots");
  }
  const bool ascii = std::all_of(name.begin(), name.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    if (name.size() > kMaxRoomCodePoints)
      return room_invalid("room names are at most 64 characters");
    return check_ascii_room_name(name);
  }
  return check_unicode_room_name(name);
}

bool is_valid_room_name(std::string_view name) {
  return check_room_name(name).ok();
}

Result<std::string> room_from_path_segment(std::string_view segment) {
  if (segment.size() > kMaxRoomSegmentBytes)
    return room_invalid("room names are at most 64 characters");
  std::optional<std::string> decoded = http::percent_decode(segment, false);
  if (!decoded) return room_invalid("bad percent-encoding in the room name");
  Result<std::string> nfc = unicode::to_nfc(*decoded);
  if (!nfc) {
    if (nfc.error().code != Errc::Invalid) return std::move(nfc).error();
    return room_invalid("room names must be valid UTF-8 of assigned characters");
  }
  if (Status s = check_room_name(*nfc); !s) return s.error();
  return *std::move(nfc);
}

void LocalRoom::add(Member* m, MemberRef ref) {
  // A quick leave and re-join can answer twice; one entry per member.
  for (const Entry& e : members_) {
    if (e.member == m) return;
  }
  members_.push_back({m, ref});
}

void LocalRoom::remove(Member* m) {
  // Swap-and-pop: member order does not matter.
  auto it =
      std::find_if(members_.begin(), members_.end(), [m](const Entry& e) { return e.member == m; });
  if (it == members_.end()) return;
  *it = members_.back();
  members_.pop_back();
}

void LocalRoom::deliver(const RoomEvent& event, MemberRef except) const {
  for (const Entry& e : members_) {
    if (e.ref == except) continue;
    const SharedText& text = event.for_protocol(e.member->protocol());
    if (text) e.member->deliver(text, event.ephemeral);
  }
}

}  // namespace parley::chat
