// The seam between a room's home and the presence other nodes share (the
// Redis engine: who is in a room on every node, their names, the counts).
//
// One node (the default) needs none of it: RoomMembers knows everybody. With
// several nodes the room's roster lives in the shared store, and every
// change of it is one atomic step there that takes the next presence number
// of the room (`seq`), applies the change and publishes it:
// - a connection joins or leaves: the count of (this node, user) is set, the
//   user claims a name (unique in the room across nodes, same suffix rule as
//   one node) when its first connection anywhere comes, and gives it back
//   when its last goes;
// - a rename.
// The answer and the published event carry the same PresenceChangeEvent, so a
// home applies each change once, in seq order, whichever road brought it
// first (docs/SCALING.md, "Presence"). A node's members are kept under its
// incarnation (node id + a random tag of this process), renewed by a
// heartbeat: once it stops, the other nodes take them out (`left`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "chat/server_event.h"

namespace parley::chat {

// One change of a room's roster, as every node applies it.
struct PresenceChangeEvent {
  uint64_t seq = 0;  // the room's presence number: consecutive, 1, 2, ...
  PresenceKind kind = PresenceKind::Joined;
  std::string user;
  std::string name;
  std::string old_name;           // Renamed
  uint64_t user_connections = 0;  // the user's connections on every node, after
  uint64_t connections = 0;       // the room's, after
  uint64_t users = 0;             // the room's, after
  bool user_changed = false;      // the user came (first connection) or went (last)
};

// A room's whole roster at one seq.
struct RosterSnapshot {
  uint64_t seq = 0;
  uint64_t connections = 0;
  struct User {
    std::string user, name;
    uint64_t connections = 0;
  };
  std::vector<User> users;
};

// What one request asks of the roster.
struct PresenceOp {
  enum class Kind {
    SetCount,  // `user` has `count` connections on this node (0: none)
    Rename,    // `user` wants to be called `name`
    Sync,      // this node's members of the room are exactly `all` (after a lapse)
  } kind = Kind::SetCount;
  std::string user;
  std::string name;    // SetCount: the name wanted if the user is new; Rename: the new one
  uint64_t count = 0;  // SetCount
  std::vector<RosterSnapshot::User> all;  // Sync: user, wanted name, connections here
};

class Presence {
 public:
  // The changes made, in seq order (none: nothing changed).
  using ChangeDone = std::function<void(Result<std::vector<PresenceChangeEvent>>)>;
  using SnapshotDone = std::function<void(Result<RosterSnapshot>)>;

  virtual ~Presence() = default;

  // Whether the roster is shared by several nodes (else nothing below is used).
  virtual bool shared() const { return false; }
  // On the room's home loop; `done` runs once, on that loop (or at once).
  virtual void change(const std::string& room, const PresenceOp& op, ChangeDone done) {
    (void)room;
    (void)op;
    done(Error{Errc::Internal, "no shared presence"});
  }
  virtual void snapshot(const std::string& room, SnapshotDone done) {
    (void)room;
    done(Error{Errc::Internal, "no shared presence"});
  }
  // The room has no members on this node any more (after its last change).
  virtual void closed(const std::string& room) { (void)room; }
  // Called by the hub once, before anything else: `resync` runs (on any
  // thread) when this node's members may have been taken out of the shared
  // roster (its heartbeat lapsed while Redis was away), and every room open
  // here then sets its members' counts again.
  virtual void listen(std::function<void()> resync) { (void)resync; }
};

}  // namespace parley::chat
