// A participant of chat rooms as the chat layer sees it: one connection,
// living on one event loop. The chat layer never sees sockets or frames: it
// hands a member texts (parley::SharedText), and the connection frames them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "base/shared_text.h"

namespace parley::chat {

// What a connection speaks: the seed's plain text, or parley.v1 JSON.
enum class Protocol : uint8_t { PlainText, Json };

// A handle to a member that can cross threads: which loop it lives on and a
// generation-checked slot there. A stale handle (member gone) resolves to
// nothing instead of a dangling pointer.
struct MemberRef {
  uint32_t loop = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;
  bool operator==(const MemberRef&) const = default;
};

struct MemberRefHash {
  std::size_t operator()(const MemberRef& r) const {
    return std::hash<uint64_t>{}((uint64_t{r.loop} << 32 | r.slot) * 0x9e3779b97f4a7c15ULL +
                                 r.generation);
  }
};

class Member {
 public:
  virtual Protocol protocol() const = 0;
  // Queue a text for this connection (corked: it leaves with the others
  // produced during this loop iteration). An ephemeral text (typing,
  // presence) may be dropped for a client that is falling behind.
  virtual void deliver(const SharedText& text, bool ephemeral = false) = 0;
  // Whether the member still wants the room's events: a join answered after
  // the member already left again must not re-add it.
  virtual bool in_room(std::string_view room) const = 0;
  // A `history` request of this member was answered (or dropped because the
  // member left the room): it may send another.
  virtual void history_answered() {}
  // The same for a `search` request.
  virtual void search_answered() {}
  // A join was refused: the server is at its room limit and this room is not
  // open. The member is not in the room.
  virtual void join_refused(std::string_view /*room*/) {}
  // The backend API removed this connection from `room` (docs/API.md): the
  // room's home no longer counts it, and its loop no longer delivers to it.
  virtual void kicked(std::string_view /*room*/) {}
  // A join failed because the message engine (Redis) cannot be reached: the
  // room could not be opened. The member is not in the room.
  virtual void join_unavailable(std::string_view /*room*/) {}

 protected:
  ~Member() = default;
};

// One event for a room, encoded once per protocol. A null text means members
// of that protocol do not see the event (typing for plain text).
struct RoomEvent {
  SharedText json;
  SharedText plain;
  bool ephemeral = false;  // typing, presence: shed first for slow clients
  const SharedText& for_protocol(Protocol p) const { return p == Protocol::Json ? json : plain; }
};

}  // namespace parley::chat
