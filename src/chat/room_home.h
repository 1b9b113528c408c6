// The authoritative state of one room, kept on the room's home loop (chosen
// by hashing the name): who is in it under which name, the last message id,
// and a cache of recent messages so a join is answered without touching disk.
//
// Only the home loop touches a RoomHome; every other loop talks to it through
// posted tasks (see ChatHub). That single owner is what makes the room's order
// of events the same for every member, wherever its connection lives.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chat/chat_message.h"
#include "chat/member.h"

namespace parley::chat {

struct RoomMember {
  MemberRef ref;
  std::string user;
  std::string name;
  Protocol protocol;
  bool active = false;      // receives room events (after its join was answered)
  uint64_t seen_up_to = 0;  // highest message id it already has (from its joined history)
  // Requests that arrived while the join was still reading history: run, in
  // order, once it is answered.
  std::vector<std::function<void()>> waiting;
};

class RoomHome {
 public:
  // `retain`: messages the store keeps per room (0 = all); the cache never
  // holds more, so it never shows a message retention has deleted.
  RoomHome(std::string name, uint64_t last_id, std::size_t cache_capacity, std::size_t loops,
           std::size_t retain = 0);

  const std::string& name() const { return name_; }
  uint64_t last_id() const { return last_id_; }

  // Membership.
  RoomMember* find(MemberRef ref);
  // Adds an inactive member with a name unique among other users of the room
  // (a clash with another user gets "-2", "-3"...). Returns it.
  RoomMember& add(MemberRef ref, std::string user, std::string wanted_name, Protocol protocol);
  void activate(RoomMember& m, uint64_t seen_up_to);
  // Removes `ref`; returns the removed member if it was there.
  std::optional<RoomMember> remove(MemberRef ref);
  std::string unique_name(std::string_view wanted, std::string_view user) const;
  std::size_t connections() const { return members_.size(); }
  std::size_t connections_of(std::string_view user) const;
  bool empty() const { return members_.empty(); }
  std::vector<RoomMember>& members() { return members_; }
  // The highest message id any member was handed in its `joined` history.
  uint64_t max_seen_up_to() const { return max_seen_up_to_; }
  // Active members speaking `p`: an event is encoded only for protocols
  // someone in the room speaks.
  std::size_t active_with(Protocol p) const { return active_by_protocol_[static_cast<int>(p)]; }
  // Loops with at least one active member (fan-out targets).
  const std::vector<uint32_t>& active_per_loop() const { return active_per_loop_; }

  // History cache.
  void append(ChatMessage msg);
  // Messages with id > after from the cache, at most `limit`, if the cache
  // holds every message after `after`; nullopt when it may not.
  std::optional<std::vector<ChatMessage>> cached_after(uint64_t after, std::size_t limit) const;
  // The last `limit` messages if the cache holds them (or all there ever were).
  std::optional<std::vector<ChatMessage>> cached_recent(std::size_t limit) const;
  // A cached message from `user` with client id `client_id` (in-memory dedup
  // when there is no store).
  const ChatMessage* find_cached(std::string_view user, std::string_view client_id) const;
  // Cached messages newer than `id` (for joining a store page to the cache).
  std::vector<ChatMessage> cached_newer_than(uint64_t id) const;
  // Whether messages older than `first_id` still exist (retention deletes
  // the oldest ones).
  bool has_older_than(uint64_t first_id) const;
  // Seeds the cache with a page read from the store ending at the last id.
  void warm(std::span<const ChatMessage> page);

  // The room's outgoing events, in order. A message waits for the store while
  // later events (a leave, typing) are already known: they queue behind it
  // so every member sees them in the order they happened.
  void emit_in_order(std::function<void()> emit);
  // Reserves the next place for an answer that waits for the store (a
  // message being written, a history page being read)...
  // `on_head`, if given, runs once everything before the slot has gone out
  // (a history read starts only when the acks before it are stored, so the
  // page contains what the client was told is stored).
  uint64_t reserve_slot(std::function<void()> on_head = {});
  // ...and fills it; whatever is ready at the head of the queue goes out.
  void complete_slot(uint64_t slot, std::function<void()> emit);

  // Asynchronous work in flight (store reads/writes): the home stays alive
  // until it is done even if everyone has left.
  int pending_ops = 0;

 private:
  std::string name_;
  uint64_t last_id_;
  std::size_t cache_capacity_;
  std::size_t retain_;
  std::deque<ChatMessage> recent_;
  // The cache holds every message with id > covered_after_.
  uint64_t covered_after_;
  std::vector<RoomMember> members_;
  std::vector<uint32_t> active_per_loop_;
  std::size_t active_by_protocol_[2] = {0, 0};
  uint64_t max_seen_up_to_ = 0;
  struct OutboxEntry {
    uint64_t slot;  // 0: not waiting for anything
    bool ready;
    std::function<void()> emit;
    std::function<void()> on_head;
  };
  uint64_t next_slot_ = 1;
  std::deque<OutboxEntry> outbox_;
  bool draining_ = false;
  void drain_outbox();
};

}  // namespace parley::chat
