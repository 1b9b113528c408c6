// Who is in one room: its connections (members) and the people behind them
// (users, each with one name in the room). Kept on the room's home loop by
// its RoomHome, the only owner.
//
// Everything a join, a leave or a rename touches is indexed: members by
// MemberRef (hash), users by id (hash), names by name (ordered, so that the
// member list pages by name). A name is unique among the users of the room;
// a clash gets a suffix ("-2", "-3"...), and the next suffix to try is
// remembered per name, so a thousand joins under one name cost a thousand
// lookups, not a million.
//
// A room shared by several nodes (`cluster`): the connections are this
// node's, the users, their names and the room's counts are the whole
// cluster's, a mirror of the shared roster (chat/presence.h) that changes
// only by apply() and reset(), never by add, remove or rename.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/member.h"
#include "chat/presence.h"
#include "chat/server_event.h"

namespace parley::chat {

// One connection in the room. Its user id is not copied: it points at the
// room's one copy, the key of the user's entry (users_, or local_users_ in a
// cluster), which lives as long as any connection of that user is here.
struct RoomMember {
  MemberRef ref;
  const std::string* user_id = nullptr;
  const std::string& user() const { return *user_id; }
  Protocol protocol = Protocol::Json;
  bool active = false;           // receives the room's events (its join was answered)
  bool leave_requested = false;  // left while its join was still being answered
  uint64_t seen_up_to = 0;       // highest message id it got in its `joined` history
};

class RoomMembers {
 public:
  explicit RoomMembers(std::size_t loops, bool cluster = false)
      : active_per_loop_(loops, 0), cluster_(cluster) {}

  RoomMember* find(MemberRef ref);
  // Adds an inactive connection. A user already in the room keeps its name;
  // a new one gets `wanted`, made unique.
  RoomMember& add(MemberRef ref, std::string user, std::string_view wanted, Protocol protocol);
  void activate(RoomMember& member, uint64_t seen_up_to);
  // Removes the connection; its user goes when its last connection does.
  // False when it was not in the room.
  bool remove(MemberRef ref);
  // Gives `user` a new name (made unique); returns the old one, or nullopt
  // when nothing changed.
  std::optional<std::string> rename(std::string_view user, std::string_view wanted);

  // A cluster's user with connections here but not yet in the roster: the
  // name it asked for (its claim is on its way).
  const std::string& name_of(std::string_view user) const;
  // Connections in the room (of every node, in a cluster).
  std::size_t connections() const { return cluster_ ? cluster_connections_ : members_.size(); }
  std::size_t users() const { return users_.size(); }
  std::size_t connections_of(std::string_view user) const;
  bool empty() const { return members_.empty(); }

  // Active members speaking `p`: an event is encoded only for protocols
  // someone in the room speaks.
  std::size_t active_with(Protocol p) const { return active_by_protocol_[static_cast<int>(p)]; }
  // Active members per loop (fan-out targets).
  const std::vector<uint32_t>& active_per_loop() const { return active_per_loop_; }
  // The highest id any member was handed in its `joined` history.
  uint64_t max_seen_up_to() const { return max_seen_up_to_; }
  // Active members other than `except` that already hold message `id`.
  std::vector<MemberRef> holding(uint64_t id, MemberRef except) const;

  // The connections of `user` in the room. O(connections in the room): for
  // the backend API's kick, which is rare and rate limited.
  std::vector<MemberRef> connections_of_user(std::string_view user) const;

  // Users by name: the first `limit` whose name sorts after `after`.
  std::vector<MemberView> page(std::string_view after, std::size_t limit) const;

  // A cluster's room: this node's connections of `user`, the users with
  // connections here, and the mirror of the shared roster.
  bool cluster() const { return cluster_; }
  std::size_t local_connections_of(std::string_view user) const;
  // Users with connections here: user, its last name in the roster, connections here.
  std::vector<RosterSnapshot::User> local_users() const;
  void apply(const PresenceChangeEvent& change);
  void reset(const RosterSnapshot& roster);

 private:
  struct User {
    std::string name;
    uint32_t connections = 0;
  };
  std::string unique_name(std::string_view wanted, std::string_view user);
  // `name` is the user's entry's name and `user` its key: names_ refers to both.
  void take_name(const std::string& name, const std::string& user);
  void free_name(std::string_view name);

  std::unordered_map<MemberRef, RoomMember, MemberRefHash> members_;
  std::unordered_map<std::string, User> users_;
  // name -> user, both views of the user's entry in users_ (node-based: its
  // key and name stay where they are; a rename re-keys): one copy of each
  // string per user, however many indexes refer to it.
  std::map<std::string_view, const std::string*> names_;
  std::unordered_map<std::string, uint32_t> next_suffix_;  // name -> next suffix to try
  std::vector<uint32_t> active_per_loop_;
  std::size_t active_by_protocol_[2] = {0, 0};
  uint64_t max_seen_up_to_ = 0;
  const bool cluster_;
  std::size_t cluster_connections_ = 0;
  struct LocalUser {
    uint32_t connections = 0;
    std::string name;  // its last name in the roster
  };
  std::unordered_map<std::string, LocalUser> local_users_;  // cluster: users with connections here
};

}  // namespace parley::chat
