// A participant of chat rooms as the chat layer sees it: one WebSocket
// connection, living on one event loop. The chat layer never sees sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley::chat {

// An encoded WebSocket frame, built once and shared by every recipient (on
// any loop: the reference count is atomic, the bytes are immutable).
using SharedFrame = std::shared_ptr<const std::string>;

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

class Member {
 public:
  virtual Protocol protocol() const = 0;
  // Queue a frame for this connection (corked: it leaves with the others
  // produced during this loop iteration). An ephemeral frame (typing,
  // presence) may be dropped for a client that is falling behind.
  virtual void deliver(const SharedFrame& frame, bool ephemeral = false) = 0;
  // Whether the member still wants the room's events: a join answered after
  // the member already left again must not re-add it.
  virtual bool in_room(std::string_view room) const = 0;

 protected:
  ~Member() = default;
};

// One event for a room, encoded once per protocol. A null frame means
// members of that protocol do not see the event (typing for plain text).
struct RoomEvent {
  SharedFrame json;
  SharedFrame plain;
  bool ephemeral = false;  // typing, presence: shed first for slow clients
  const SharedFrame& for_protocol(Protocol p) const { return p == Protocol::Json ? json : plain; }
};

SharedFrame make_text_frame(std::string_view text);

}  // namespace parley::chat
