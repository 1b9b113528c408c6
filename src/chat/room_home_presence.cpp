// RoomHome's steps for a roster shared by several nodes
// (RoomOptions::shared_presence, the Redis engine; chat/presence.h).
//
// This node's connections are in RoomMembers as always; the users, their
// names and the room's counts there are a mirror of the shared roster, which
// changes only by the roster's own changes, applied here in their seq order
// whatever road brought them (the answer to this home's change, or the bus),
// each once. A change is announced to this node's members when it is applied,
// so every member on every node hears of the same joins, leaves and renames
// in the same order, with the counts of the whole room.
//
// A join first claims the user in the roster (its name is given there); the
// join goes on once that change is applied here, so its `joined` lists it
// with its name. A change held because one before it has not come yet
// (usually a few hundred microseconds behind on the bus) waits for
// `presence_grace`; then the whole roster is read again, as it is when the
// room opens and whenever the bus (re)subscribes.
#include <spdlog/spdlog.h>

#include "chat/events.h"
#include "chat/room_home.h"

namespace parley::chat {
namespace {
constexpr MemberRef kNobody{UINT32_MAX, 0, 0};
constexpr auto kRetryAfterError = std::chrono::milliseconds(500);
}  // namespace

void RoomHome::claim(MemberRef who, const JoinRequest& request) {
  uint64_t ticket = new_ticket();
  claims_.emplace(ticket, Claim{who, {request}});
  send_presence(PresenceOp{PresenceOp::Kind::SetCount,
                           request.user,
                           request.name,
                           members_.local_connections_of(request.user),
                           {}},
                ticket);
}

bool RoomHome::claiming(MemberRef who, const JoinRequest& request) {
  // A repeated join while the first one's claim is on its way: it goes on
  // with the first.
  for (auto& [ticket, c] : claims_) {
    if (c.who == who) {
      c.requests.push_back(request);
      return true;
    }
  }
  for (auto& [seq, c] : claimed_) {
    if (c.who == who) {
      c.requests.push_back(request);
      return true;
    }
  }
  return false;
}

void RoomHome::send_presence(const PresenceOp& op, uint64_t ticket) {
  ++presence_in_flight_;
  host_.presence_change(*this, ticket, op);
}

void RoomHome::on_presence_changed(uint64_t ticket,
                                   Result<std::vector<PresenceChangeEvent>> changes) {
  --presence_in_flight_;
  if (!changes) {
    spdlog::warn("room {}: presence not changed: {}", name_, changes.error().message);
    if (ticket != 0) claim_failed(ticket);
    return;
  }
  uint64_t last_seq = 0;
  for (PresenceChangeEvent& e : *changes) {
    last_seq = e.seq;
    held_presence_.emplace(e.seq, std::move(e));
  }
  if (ticket != 0) {
    auto claim = claims_.extract(ticket);
    // No change (this user already had as many connections here): applied.
    if (!claim.empty()) claimed_.emplace(last_seq, std::move(claim.mapped()));
  }
  release_presence();
}

void RoomHome::claim_failed(uint64_t ticket) {
  auto claim = claims_.extract(ticket);
  if (claim.empty()) return;
  MemberRef who = claim.mapped().who;
  if (members_.find(who) == nullptr) return;
  members_.remove(who);
  host_.join_unavailable(who, *this);
}

void RoomHome::on_remote_presence(PresenceChangeEvent change) {
  if (change.seq <= presence_seq_) return;
  held_presence_.emplace(change.seq, std::move(change));
  release_presence();
}

void RoomHome::release_presence() {
  if (!roster_ready_) return;
  while (!held_presence_.empty()) {
    auto it = held_presence_.begin();
    if (it->first > presence_seq_ + 1) break;
    PresenceChangeEvent change = std::move(it->second);
    held_presence_.erase(it);
    if (change.seq <= presence_seq_) continue;  // applied, or in the roster read since
    presence_seq_ = change.seq;
    members_.apply(change);
    announce_change(change);
  }
  host_.counts_changed(*this);
  // Joins whose claim is applied go on.
  while (!claimed_.empty() && claimed_.begin()->first <= presence_seq_) {
    Claim c = std::move(claimed_.begin()->second);
    claimed_.erase(claimed_.begin());
    for (const JoinRequest& r : c.requests) continue_join(c.who, r);
  }
  if (!held_presence_.empty() && !presence_check_scheduled_) {
    presence_check_scheduled_ = true;
    host_.check_presence_after(*this, options_.presence_grace);
  }
}

void RoomHome::announce_change(const PresenceChangeEvent& c) {
  PresenceChange change{c.kind, c.user, c.name, c.old_name, c.connections, c.users, c.user_changed};
  if (c.kind == PresenceKind::Renamed) {
    flush_presence();  // after the joins and leaves before it
    emit(presence_event(name_, change), kNobody);
    return;
  }
  announce(change, kNobody);
}

void RoomHome::check_presence() {
  presence_check_scheduled_ = false;
  if (roster_ready_ && held_presence_.empty()) return;
  if (roster_ready_ && held_presence_.begin()->first == presence_seq_ + 1) {
    release_presence();
    return;
  }
  request_roster();  // a change was lost on the bus, or the roster was never read
}

void RoomHome::request_roster() {
  if (roster_reading_) return;
  roster_reading_ = true;
  ++presence_in_flight_;
  host_.presence_snapshot(*this);
}

void RoomHome::on_roster(Result<RosterSnapshot> roster) {
  --presence_in_flight_;
  roster_reading_ = false;
  if (!roster) {
    spdlog::warn("room {}: roster not read: {}", name_, roster.error().message);
    if (!presence_check_scheduled_) {
      presence_check_scheduled_ = true;
      host_.check_presence_after(*this, kRetryAfterError);
    }
    return;
  }
  // The changes in between (a lost event) are not announced one by one: the
  // counts and the member list are right from here on.
  if (!roster_ready_ || roster->seq > presence_seq_) {
    members_.reset(*roster);
    presence_seq_ = roster->seq;
  }
  roster_ready_ = true;
  release_presence();
}

void RoomHome::resync_presence() {
  PresenceOp op{PresenceOp::Kind::Sync, {}, {}, 0, {}};
  op.all = members_.local_users();
  send_presence(op);
  request_roster();
}

}  // namespace parley::chat
