#include "chat/room_home.h"

#include <algorithm>
#include <utility>

namespace parley::chat {

RoomHome::RoomHome(std::string name, uint64_t last_id, std::size_t cache_capacity,
                   std::size_t loops, std::size_t retain)
    : name_(std::move(name)),
      last_id_(last_id),
      cache_capacity_(retain > 0 ? std::min(cache_capacity, retain) : cache_capacity),
      retain_(retain),
      covered_after_(last_id),
      active_per_loop_(loops, 0) {}

RoomMember* RoomHome::find(MemberRef ref) {
  for (auto& m : members_) {
    if (m.ref == ref) return &m;
  }
  return nullptr;
}

std::size_t RoomHome::connections_of(std::string_view user) const {
  return static_cast<std::size_t>(std::count_if(members_.begin(), members_.end(),
                                                [&](const auto& m) { return m.user == user; }));
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
  members_.push_back(RoomMember{ref, std::move(user), std::move(name), protocol, false, 0, {}});
  return members_.back();
}

void RoomHome::activate(RoomMember& m, uint64_t seen_up_to) {
  if (m.active) return;
  m.active = true;
  m.seen_up_to = seen_up_to;
  max_seen_up_to_ = std::max(max_seen_up_to_, seen_up_to);
  ++active_per_loop_[m.ref.loop];
  ++active_by_protocol_[static_cast<int>(m.protocol)];
}

std::optional<RoomMember> RoomHome::remove(MemberRef ref) {
  auto it =
      std::find_if(members_.begin(), members_.end(), [&](const auto& m) { return m.ref == ref; });
  if (it == members_.end()) return std::nullopt;
  RoomMember gone = std::move(*it);
  members_.erase(it);
  if (gone.active) {
    --active_per_loop_[gone.ref.loop];
    --active_by_protocol_[static_cast<int>(gone.protocol)];
  }
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
  // Enough cached, or the cache reaches back to the room's first message, or
  // it holds everything retention keeps.
  bool holds_all = covered_after_ == 0 || (retain_ > 0 && recent_.size() >= retain_);
  if (recent_.size() < limit && !holds_all) return std::nullopt;
  std::size_t n = std::min(limit, recent_.size());
  return std::vector<ChatMessage>(recent_.end() - static_cast<std::ptrdiff_t>(n), recent_.end());
}

bool RoomHome::has_older_than(uint64_t first_id) const {
  uint64_t oldest_kept = retain_ > 0 && last_id_ >= retain_ ? last_id_ - retain_ + 1 : 1;
  return first_id > oldest_kept;
}

const ChatMessage* RoomHome::find_cached(std::string_view user, std::string_view client_id) const {
  for (const auto& m : recent_) {
    if (m.client_id == client_id && m.user == user) return &m;
  }
  return nullptr;
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
  outbox_.push_back({0, true, std::move(emit), {}});
}

uint64_t RoomHome::reserve_slot(std::function<void()> on_head) {
  uint64_t slot = next_slot_++;
  outbox_.push_back({slot, false, {}, std::move(on_head)});
  if (outbox_.size() == 1) drain_outbox();  // already at the head
  return slot;
}

void RoomHome::complete_slot(uint64_t slot, std::function<void()> emit) {
  for (auto& entry : outbox_) {
    if (entry.slot == slot) {
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
  while (!outbox_.empty()) {
    OutboxEntry& head = outbox_.front();
    if (!head.ready) {
      if (head.on_head) std::exchange(head.on_head, nullptr)();
      break;
    }
    auto emit = std::move(head.emit);
    outbox_.pop_front();
    if (emit) emit();
  }
  draining_ = false;
}

}  // namespace parley::chat
