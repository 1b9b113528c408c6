#include "chat/room_members.h"

#include <algorithm>

namespace parley::chat {

RoomMember* RoomMembers::find(MemberRef ref) {
  auto it = members_.find(ref);
  return it == members_.end() ? nullptr : &it->second;
}

RoomMember& RoomMembers::add(MemberRef ref, std::string user, std::string_view wanted,
                             Protocol protocol) {
  RoomMember& m = members_[ref];
  if (cluster_) {  // the user and its name come from the shared roster (apply)
    auto local = local_users_.try_emplace(std::move(user)).first;
    ++local->second.connections;
    if (local->second.name.empty())
      local->second.name = std::string(wanted);  // until the roster names it
    m = RoomMember{ref, &local->first, protocol, false, false, 0};
    return m;
  }
  // Several connections of one user (tabs, a reconnect racing its old
  // connection) share the user's name in the room.
  auto [it, is_new] = users_.try_emplace(std::move(user));
  if (is_new) {
    it->second.name = unique_name(wanted, it->first);
    take_name(it->second.name, it->first);
  }
  ++it->second.connections;
  m = RoomMember{ref, &it->first, protocol, false, false, 0};
  return m;
}

void RoomMembers::activate(RoomMember& m, uint64_t seen_up_to) {
  if (m.active) return;
  m.active = true;
  m.seen_up_to = seen_up_to;
  max_seen_up_to_ = std::max(max_seen_up_to_, seen_up_to);
  ++active_per_loop_[m.ref.loop];
  ++active_by_protocol_[static_cast<int>(m.protocol)];
}

bool RoomMembers::remove(MemberRef ref) {
  auto it = members_.find(ref);
  if (it == members_.end()) return false;
  const RoomMember gone = it->second;
  members_.erase(it);
  if (gone.active) {
    --active_per_loop_[gone.ref.loop];
    --active_by_protocol_[static_cast<int>(gone.protocol)];
  }
  if (cluster_) {
    auto local = local_users_.find(gone.user());
    if (local != local_users_.end() && --local->second.connections == 0) local_users_.erase(local);
    return true;
  }
  auto user = users_.find(gone.user());
  if (--user->second.connections == 0) {
    free_name(user->second.name);
    users_.erase(user);
  }
  return true;
}

std::vector<MemberRef> RoomMembers::connections_of_user(std::string_view user) const {
  std::vector<MemberRef> refs;
  for (const auto& [ref, member] : members_) {
    if (member.user() == user) refs.push_back(ref);
  }
  return refs;
}

std::optional<std::string> RoomMembers::rename(std::string_view user_id, std::string_view wanted) {
  auto it = users_.find(std::string(user_id));
  if (cluster_ || it == users_.end()) return std::nullopt;  // a cluster renames in the roster
  User& user = it->second;
  if (user.name == wanted) return std::nullopt;
  std::string name = unique_name(wanted, user_id);
  if (name == user.name) return std::nullopt;
  free_name(user.name);  // before the name's bytes change under its key
  std::string old = std::exchange(user.name, std::move(name));
  take_name(user.name, it->first);
  return old;
}

const std::string& RoomMembers::name_of(std::string_view user) const {
  static const std::string kNobody;
  auto it = users_.find(std::string(user));
  if (it != users_.end()) return it->second.name;
  if (cluster_) {  // a connection here whose claim is not applied yet: the name it asked for
    auto local = local_users_.find(std::string(user));
    if (local != local_users_.end()) return local->second.name;
  }
  return kNobody;
}

std::size_t RoomMembers::connections_of(std::string_view user) const {
  auto it = users_.find(std::string(user));
  return it == users_.end() ? 0 : it->second.connections;
}

std::string RoomMembers::unique_name(std::string_view wanted, std::string_view user) {
  auto taken = [&](std::string_view name) {
    auto it = names_.find(name);
    return it != names_.end() && *it->second != user;
  };
  if (!taken(wanted)) return std::string(wanted);
  uint32_t& next = next_suffix_.try_emplace(std::string(wanted), 2).first->second;
  for (;; ++next) {
    std::string candidate = std::string(wanted) + "-" + std::to_string(next);
    if (!taken(candidate)) {
      ++next;
      return candidate;
    }
  }
}

void RoomMembers::take_name(const std::string& name, const std::string& user) {
  names_.insert_or_assign(name, &user);
}

void RoomMembers::free_name(std::string_view name) {
  // Once a name is free again its next holder needs no suffix: forget the
  // counter, so the map holds no more entries than names in use.
  if (!next_suffix_.empty()) next_suffix_.erase(std::string(name));
  names_.erase(name);
}

std::vector<MemberRef> RoomMembers::holding(uint64_t id, MemberRef except) const {
  std::vector<MemberRef> out;
  if (id == 0 || id > max_seen_up_to_) return out;  // the common case: nobody
  for (const auto& [ref, m] : members_) {
    if (m.active && m.seen_up_to >= id && !(ref == except)) out.push_back(ref);
  }
  return out;
}

std::vector<MemberView> RoomMembers::page(std::string_view after, std::size_t limit) const {
  std::vector<MemberView> out;
  auto it = after.empty() ? names_.begin() : names_.upper_bound(after);
  for (; it != names_.end() && out.size() < limit; ++it) out.push_back({*it->second, it->first});
  return out;
}

// --- a cluster's room: the mirror of the shared roster ------------------------------

std::size_t RoomMembers::local_connections_of(std::string_view user) const {
  if (!cluster_) return connections_of(user);
  auto it = local_users_.find(std::string(user));
  return it == local_users_.end() ? 0 : it->second.connections;
}

std::vector<RosterSnapshot::User> RoomMembers::local_users() const {
  std::vector<RosterSnapshot::User> out;
  if (!cluster_) {
    for (const auto& [user, u] : users_) out.push_back({user, u.name, u.connections});
    return out;
  }
  out.reserve(local_users_.size());
  for (const auto& [user, u] : local_users_) out.push_back({user, u.name, u.connections});
  return out;
}

void RoomMembers::apply(const PresenceChangeEvent& change) {
  cluster_connections_ = change.connections;
  if (auto local = local_users_.find(change.user);
      local != local_users_.end() && !change.name.empty()) {
    local->second.name = change.name;
  }
  auto it = users_.find(change.user);
  if (change.user_connections == 0) {  // gone from every node
    if (it == users_.end()) return;
    free_name(it->second.name);
    users_.erase(it);
    return;
  }
  if (it == users_.end()) it = users_.try_emplace(change.user).first;
  User& u = it->second;
  u.connections = static_cast<uint32_t>(change.user_connections);
  if (u.name != change.name) {
    if (!u.name.empty()) free_name(u.name);
    u.name = change.name;
    take_name(u.name, it->first);
  }
}

void RoomMembers::reset(const RosterSnapshot& roster) {
  users_.clear();
  names_.clear();
  cluster_connections_ = roster.connections;
  for (const RosterSnapshot::User& u : roster.users) {
    auto it =
        users_.insert_or_assign(u.user, User{u.name, static_cast<uint32_t>(u.connections)}).first;
    take_name(it->second.name, it->first);
    if (auto local = local_users_.find(u.user); local != local_users_.end()) {
      local->second.name = u.name;
    }
  }
}

}  // namespace parley::chat
