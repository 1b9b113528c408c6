// Room names, and the part of a room that lives on one event loop: the
// members connected to that loop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "chat/member.h"

namespace parley::chat {

// Room names (docs/PROTOCOL.md "Rooms"): 1-64 code points, each a letter, a
// combining mark or a digit of any script, or one of `.` `_` `-`; not
// starting with a mark, not only dots (so never `.` or `..`), no invisible
// (default-ignorable) characters, in Unicode NFC. Case is kept and names are
// compared byte for byte: `Lobby` and `lobby` are two rooms. No whitespace,
// controls, format or bidi characters, symbols or emoji. ASCII names are
// checked without allocating; others cost one NFC check.
bool is_valid_room_name(std::string_view name);

// Ok for a valid room name, else Errc::Invalid saying which rule `name`
// breaks (the message of a `room_invalid` error).
Status check_room_name(std::string_view name);

// The room a URL path segment names (the `<room>` of `/ws/<room>`, without
// query or fragment): percent-decoded (RFC 3986: %XX, either case; `+` is a
// plus), made NFC (a browser sends what the user typed, normalised or not),
// then checked with check_room_name. Pure: the HTTP layer calls it on upgrade.
Result<std::string> room_from_path_segment(std::string_view segment);

// The members of one room that live on this loop. The room's home loop sends
// each event once per loop; the loop hands it to its local members.
class LocalRoom {
 public:
  void add(Member* m, MemberRef ref);
  void remove(Member* m);
  bool empty() const { return members_.empty(); }
  std::size_t size() const { return members_.size(); }

  // `except` (e.g. the sender) is skipped.
  void deliver(const RoomEvent& event, MemberRef except) const;

 private:
  struct Entry {
    Member* member;
    MemberRef ref;
  };
  std::vector<Entry> members_;
};

}  // namespace parley::chat
