#include "chat/room_home.h"

#include <algorithm>

namespace parley::chat {

RoomHome::RoomHome(std::string name, uint64_t last_id, std::size_t cache_capacity,
                   std::size_t loops)
    : name_(std::move(name)),
      last_id_(last_id),
      cache_capacity_(cache_capacity),
      covered_after_(last_id),
      active_per_loop_(loops, 0) {}

RoomMember* RoomHome::find(MemberRef ref) {
  for (auto& m : members_) {
    if (m.ref == ref) return &m;
  }
  return nullptr;
}

std::size_t RoomHome::connections_of(std::string_view user) const {
  return static_cast<std::size_t>(
      std::count_if(members_.begin(), members_.end(), [&](const auto& m) { return m.user == user; }));
}

std::string RoomHome::unique_name(std::string_view wanted, std::string_view user) const {
  auto taken = [&](std::string_view name) {
    return std::any_of(members_.begin(), members_.end(),
                       [&](const auto& m) { return m.name == name && m.user != user; });
  };
  if (!taken(wanted)) return std::string(wanted);
  for (int n = 2;; ++n) {
    std::string candidate = std::string(wanted) + "-" + std::to_string(n);
    if (!taken(candidate)) return candidate;
  }
}

RoomMember& RoomHome::add(MemberRef ref, std::string user, std::string wanted_name,
                          Protocol protocol) {
  // Several connections of one user (tabs, a reconnect racing its old
  // connection) share the user's name in the room.
  std::string name;
  for (const auto& m : members_) {
    if (m.user == user) name = m.name;
  }
  if (name.empty()) name = unique_name(wanted_name, user);
  members_.push_back(RoomMember{ref, std::move(user), std::move(name), protocol, false, 0});
  return members_.back();
}

void RoomHome::activate(RoomMember& m, uint64_t seen_up_to) {
  if (m.active) return;
  m.active = true;
  m.seen_up_to = seen_up_to;
  ++active_per_loop_[m.ref.loop];
}

std::optional<RoomMember> RoomHome::remove(MemberRef ref) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](const auto& m) { return m.ref == ref; });
  if (it == members_.end()) return std::nullopt;
  RoomMember gone = std::move(*it);
  members_.erase(it);
  if (gone.active) --active_per_loop_[gone.ref.loop];
  return gone;
}

void RoomHome::append(ChatMessage msg) {
  last_id_ = std::max(last_id_, msg.id);
  recent_.push_back(std::move(msg));
  while (recent_.size() > cache_capacity_) {
    covered_after_ = recent_.front().id;
    recent_.pop_front();
  }
}

std::optional<std::vector<ChatMessage>> RoomHome::cached_after(uint64_t after,
                                                               std::size_t limit) const {
  if (after < covered_after_) return std::nullopt;
  std::vector<ChatMessage> out;
  for (const auto& m : recent_) {
    if (m.id <= after) continue;
    if (out.size() == limit) break;
    out.push_back(m);
  }
  return out;
}

std::optional<std::vector<ChatMessage>> RoomHome::cached_recent(std::size_t limit) const {
  // Enough cached, or the cache reaches back to the room's first message.
  if (recent_.size() < limit && covered_after_ != 0) return std::nullopt;
  std::size_t n = std::min(limit, recent_.size());
  return std::vector<ChatMessage>(recent_.end() - static_cast<std::ptrdiff_t>(n), recent_.end());
}

std::vector<ChatMessage> RoomHome::cached_newer_than(uint64_t id) const {
  std::vector<ChatMessage> out;
  for (const auto& m : recent_) {
    if (m.id > id) out.push_back(m);
  }
  return out;
}

void RoomHome::warm(std::span<const ChatMessage> page) {
  // Only a page that ends where the cache begins keeps "the cache holds every
  // message after covered_after_" true.
  if (page.empty() || page.back().id != covered_after_) return;
  std::deque<ChatMessage> merged(page.begin(), page.end());
  for (auto& m : recent_) merged.push_back(std::move(m));
  recent_.swap(merged);
  covered_after_ = page.front().id - 1;
  while (recent_.size() > cache_capacity_) {
    covered_after_ = recent_.front().id;
    recent_.pop_front();
  }
}

void RoomHome::emit_in_order(std::function<void()> emit) {
  if (outbox_.empty()) {
    emit();
    return;
  }
  outbox_.push_back({true, std::move(emit)});
}

void RoomHome::reserve_message_slot() { outbox_.push_back({false, {}}); }

void RoomHome::complete_message_slot(std::function<void()> emit) {
  for (auto& entry : outbox_) {
    if (!entry.ready) {
      entry.ready = true;
      entry.emit = std::move(emit);
      break;
    }
  }
  drain_outbox();
}

void RoomHome::drain_outbox() {
  if (draining_) return;  // an emit that completes another slot
  draining_ = true;
  while (!outbox_.empty() && outbox_.front().ready) {
    auto emit = std::move(outbox_.front().emit);
    outbox_.pop_front();
    if (emit) emit();
  }
  draining_ = false;
}

}  // namespace parley::chat
