#include "chat/chat_hub.h"

#include <algorithm>
#include <chrono>

#include "chat/event_frames.h"
#include "store/history_store.h"

namespace parley::chat {
namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

ChatMessage from_stored(const store::StoredMessage& s) {
  return ChatMessage{s.id, s.ts_ms, s.user_id, s.sender_name, s.client_id, s.text};
}

std::vector<ChatMessage> from_stored(const std::vector<store::StoredMessage>& page) {
  std::vector<ChatMessage> out;
  out.reserve(page.size());
  for (const auto& s : page) out.push_back(from_stored(s));
  return out;
}

// Distinct users of the room with their names, for `joined`.
std::vector<MemberInfo> member_list(const std::vector<RoomMember>& members) {
  std::vector<MemberInfo> out;
  for (const auto& m : members) {
    if (!m.active) continue;
    bool seen =
        std::any_of(out.begin(), out.end(), [&](const auto& i) { return i.user == m.user; });
    if (!seen) out.push_back({m.user, m.name});
  }
  return out;
}

}  // namespace

// Per-loop state. Touched only from its own loop's thread.
struct ChatHub::Shard {
  // Members living on this loop: generation-checked slots, so a handle that
  // outlives its member resolves to nothing.
  struct Slot {
    Member* member = nullptr;
    uint32_t generation = 0;
  };
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, LocalRoom> local_rooms;

  // Rooms whose home is this loop.
  std::unordered_map<std::string, std::unique_ptr<RoomHome>> homes;
  // Last ids of rooms with history but no live home.
  std::unordered_map<std::string, uint64_t> last_ids;

  Member* find(MemberRef ref) const {
    if (ref.slot >= slots.size()) return nullptr;
    const Slot& s = slots[ref.slot];
    return s.generation == ref.generation ? s.member : nullptr;
  }
};

ChatHub::ChatHub(std::vector<Post> loops, store::HistoryStore* store, ChatOptions options)
    : posts_(std::move(loops)), store_(store), options_(options) {
  for (std::size_t i = 0; i < posts_.size(); ++i) shards_.push_back(std::make_unique<Shard>());
}

ChatHub::~ChatHub() = default;

void ChatHub::seed_last_id(const std::string& room, uint64_t id) {
  shards_[home_of(room)]->last_ids[room] = id;
}

uint32_t ChatHub::home_of(const std::string& room) const {
  return static_cast<uint32_t>(std::hash<std::string>{}(room) % shards_.size());
}

MemberRef ChatHub::attach(uint32_t loop, Member* member) {
  Shard& shard = *shards_[loop];
  uint32_t slot;
  if (!shard.free_slots.empty()) {
    slot = shard.free_slots.back();
    shard.free_slots.pop_back();
  } else {
    slot = static_cast<uint32_t>(shard.slots.size());
    shard.slots.push_back({});
  }
  shard.slots[slot].member = member;
  return MemberRef{loop, slot, shard.slots[slot].generation};
}

void ChatHub::detach(MemberRef ref) {
  Shard& shard = *shards_[ref.loop];
  if (shard.find(ref) == nullptr) return;
  auto& s = shard.slots[ref.slot];
  s.member = nullptr;
  ++s.generation;
  shard.free_slots.push_back(ref.slot);
}

void ChatHub::at_home(const std::string& room, std::function<void(RoomHome&)> fn) {
  uint32_t h = home_of(room);
  posts_[h]([this, h, room, fn = std::move(fn)] {
    Shard& shard = *shards_[h];
    RoomHome& home = home_on_this_loop(shard, room);
    fn(home);
    release_if_idle(shard, home);
  });
}

RoomHome& ChatHub::home_on_this_loop(Shard& shard, const std::string& room) {
  auto it = shard.homes.find(room);
  if (it != shard.homes.end()) return *it->second;
  uint64_t last_id = 0;
  if (auto l = shard.last_ids.find(room); l != shard.last_ids.end()) {
    last_id = l->second;
    shard.last_ids.erase(l);
  }
  auto home = std::make_unique<RoomHome>(room, last_id, options_.cache_per_room, shards_.size(),
                                         options_.retain_per_room);
  return *shard.homes.emplace(room, std::move(home)).first->second;
}

void ChatHub::release_if_idle(Shard& shard, RoomHome& home) {
  // An empty room costs nothing but its last id; its cache is rebuilt from
  // the store when someone comes back.
  if (!home.empty() || home.pending_ops > 0) return;
  if (home.last_id() > 0) shard.last_ids[home.name()] = home.last_id();
  shard.homes.erase(home.name());
}

void ChatHub::at_member(MemberRef ref, std::function<void(Member&)> fn) {
  posts_[ref.loop]([this, ref, fn = std::move(fn)] {
    if (Member* m = shards_[ref.loop]->find(ref)) fn(*m);
  });
}

void ChatHub::to_member(MemberRef ref, SharedFrame frame) {
  if (!frame) return;
  at_member(ref, [frame = std::move(frame)](Member& m) { m.deliver(frame); });
}

void ChatHub::fan_out(RoomHome& home, const RoomEvent& event, MemberRef except) {
  // Behind any message still being stored, so that, say, a sender's last
  // message reaches the others before the notice that it left.
  home.emit_in_order([this, &home, event, except] { fan_out_now(home, event, except, 0); });
}

void ChatHub::fan_out_now(RoomHome& home, const RoomEvent& event, MemberRef except,
                          uint64_t msg_id) {
  // Members that already have this message in their joined history are
  // skipped too (a join answered from the store can overtake the message's
  // own fan-out). Ids only grow, so past the highest id any member was handed
  // in a `joined` there is nobody to look for: the common case scans nothing
  // and allocates nothing.
  std::vector<MemberRef> also_skip;
  if (msg_id != 0 && msg_id <= home.max_seen_up_to()) {
    for (const auto& m : home.members()) {
      if (m.active && m.seen_up_to >= msg_id && !(m.ref == except)) also_skip.push_back(m.ref);
    }
  }
  const auto& per_loop = home.active_per_loop();
  for (uint32_t loop = 0; loop < per_loop.size(); ++loop) {
    if (per_loop[loop] == 0) continue;
    posts_[loop]([this, loop, room = home.name(), event, except, also_skip] {
      Shard& shard = *shards_[loop];
      auto it = shard.local_rooms.find(room);
      if (it == shard.local_rooms.end()) return;
      if (also_skip.empty()) {
        it->second.deliver(event, except);
        return;
      }
      // Rare path: several members to skip.
      LocalRoom filtered = it->second;
      std::vector<MemberRef> skip = also_skip;
      skip.push_back(except);
      for (const auto& ref : skip) {
        if (ref.loop != loop) continue;  // slots are per loop
        if (Member* m = shard.find(ref)) filtered.remove(m);
      }
      filtered.deliver(event, MemberRef{UINT32_MAX, 0, 0});
    });
  }
}

void ChatHub::join(MemberRef who, JoinRequest req) {
  std::string room = req.room;  // not req.room below: the lambda moves req
  at_home(room, [this, who, req = std::move(req)](RoomHome& home) mutable {
    RoomMember* existing = home.find(who);
    if (existing != nullptr && !existing->active) return;  // its first join is still in flight
    // A repeated join (a client resynchronising) is answered with a fresh
    // `joined` and changes nothing else.
    if (existing == nullptr) home.add(who, req.user, req.name, req.protocol);
    if (req.protocol == Protocol::PlainText) {
      finish_join(home, who, {}, false);
      return;
    }
    // Answer from the cache when it holds what the member needs.
    std::optional<std::vector<ChatMessage>> cached =
        req.since ? home.cached_after(*req.since, options_.page_max)
                  : home.cached_recent(options_.join_history);
    if (cached || store_ == nullptr) {
      std::vector<ChatMessage> history = cached ? std::move(*cached) : std::vector<ChatMessage>{};
      bool truncated;
      if (req.since) {
        truncated = !history.empty() && history.back().id < home.last_id();
      } else {
        truncated = !history.empty() && home.has_older_than(history.front().id);
      }
      finish_join(home, who, std::move(history), truncated);
      return;
    }
    // Cold room or a long absence: read from the store off-loop, then finish
    // on the home loop. A new member stays inactive (no events) meanwhile.
    ++home.pending_ops;
    uint32_t h = home_of(req.room);
    // TODO(lead): a read error must reach the client as history_unavailable; until the chat
    // side handles it, it is answered as an empty page, as before.
    auto done = [this, h, who, room = req.room,
                 since = req.since](Result<store::HistoryPage> read) {
      store::HistoryPage page = read ? std::move(read).value() : store::HistoryPage{};
      posts_[h]([this, h, who, room, since, page = std::move(page)]() mutable {
        Shard& shard = *shards_[h];
        RoomHome& home = home_on_this_loop(shard, room);
        --home.pending_ops;
        if (home.find(who) != nullptr) {
          std::vector<ChatMessage> history = from_stored(page.messages);
          bool truncated = page.truncated;
          if (!since) home.warm(history);
          // Messages committed since the read started come from the cache.
          uint64_t upto = history.empty() ? since.value_or(0) : history.back().id;
          if (!(since && page.truncated)) {
            for (auto& msg : home.cached_newer_than(upto)) history.push_back(std::move(msg));
          }
          finish_join(home, who, std::move(history), truncated);
        }
        release_if_idle(shard, home);
      });
    };
    if (req.since) {
      store_->after(req.room, *req.since, options_.page_max, std::move(done));
    } else {
      store_->recent(req.room, options_.join_history, std::move(done));
    }
  });
}

void ChatHub::finish_join(RoomHome& home, MemberRef who, std::vector<ChatMessage> history,
                          bool truncated) {
  RoomMember* m = home.find(who);
  if (m == nullptr) return;
  if (m->active) {  // a repeated join: only the answer
    if (m->protocol == Protocol::Json) {
      auto members = member_list(home.members());
      to_member(who,
                joined_frame(home.name(), m->name, members, history, truncated, home.last_id()));
    }
    return;
  }
  uint64_t seen = history.empty() ? home.last_id() : std::max(history.back().id, home.last_id());
  if (truncated && !history.empty()) seen = history.back().id;
  home.activate(*m, seen);
  std::size_t conns_of_user = home.connections_of(m->user);

  SharedFrame reply;
  if (m->protocol == Protocol::Json) {
    auto members = member_list(home.members());
    reply = joined_frame(home.name(), m->name, members, history, truncated, home.last_id());
  }
  // Activation and the reply travel in one task, so no room event can reach
  // the member before its `joined`, and none committed after it is missed.
  Shard* shard = shards_[who.loop].get();
  posts_[who.loop]([shard, who, room = home.name(), reply] {
    Member* member = shard->find(who);
    if (member == nullptr) return;
    // Left again meanwhile: still answered (the client asked), not added.
    if (member->in_room(room)) shard->local_rooms[room].add(member, who);
    if (reply) member->deliver(reply);
  });
  fan_out(home,
          presence_event(home.name(), PresenceKind::Joined, m->user, m->name, {},
                         home.connections(), conns_of_user == 1),
          who);
  // Requests that came in behind the join, in order (a leave among them may
  // remove the member, so take the list first).
  auto waiting = std::move(m->waiting);
  for (auto& action : waiting) action();
}

void ChatHub::leave(MemberRef who, const std::string& room) {
  // Stop local delivery at once; the home forgets the member in its own time.
  Shard& shard = *shards_[who.loop];
  if (Member* member = shard.find(who)) {
    auto it = shard.local_rooms.find(room);
    if (it != shard.local_rooms.end()) {
      it->second.remove(member);
      if (it->second.empty()) shard.local_rooms.erase(it);
    }
  }
  at_home(room, [this, who](RoomHome& home) { leave_at_home(home, who); });
}

void ChatHub::leave_at_home(RoomHome& home, MemberRef who) {
  RoomMember* m = home.find(who);
  if (m == nullptr) return;
  if (!m->active) {  // its join is still reading history: leave after it
    m->waiting.push_back([this, &home, who] { leave_at_home(home, who); });
    return;
  }
  Protocol protocol = m->protocol;
  std::optional<RoomMember> gone = home.remove(who);
  bool user_left = home.connections_of(gone->user) == 0;
  fan_out(home,
          presence_event(home.name(), PresenceKind::Left, gone->user, gone->name, {},
                         home.connections(), user_left),
          who);
  // `left` after every answer still waiting for the store (acks).
  if (protocol == Protocol::Json) {
    home.emit_in_order([this, who, room = home.name()] { to_member(who, left_frame(room)); });
  }
}

void ChatHub::send(MemberRef who, SendRequest req) {
  std::string room = req.room;  // not req.room below: the lambda moves req
  at_home(room, [this, who, req = std::move(req)](RoomHome& home) mutable {
    send_at_home(home, who, std::move(req));
  });
}

void ChatHub::send_at_home(RoomHome& home, MemberRef who, SendRequest req) {
  {
    RoomMember* m = home.find(who);
    if (m == nullptr) return;  // the session checks membership first
    if (!m->active) {          // sent right behind a join still reading history
      m->waiting.push_back([this, &home, who, req = std::move(req)]() mutable {
        send_at_home(home, who, std::move(req));
      });
      return;
    }
    ChatMessage msg{0, now_ms(), m->user, m->name, std::move(req.client_id), std::move(req.text)};
    Protocol proto = m->protocol;
    if (store_ == nullptr) {
      // Without a store, resends are recognised while the original is cached.
      if (!msg.client_id.empty()) {
        if (const ChatMessage* seen = home.find_cached(msg.user, msg.client_id)) {
          to_member(who, ack_frame(home.name(), seen->client_id, seen->id, seen->ts_ms, true));
          return;
        }
      }
      msg.id = home.last_id() + 1;
      commit_message(home, who, std::move(msg), proto);
      return;
    }
    ++home.pending_ops;
    uint64_t slot = home.reserve_slot();
    uint32_t h = home_of(home.name());
    store::AppendRequest append{home.name(),   msg.user, msg.from,
                                msg.client_id, msg.text, msg.ts_ms};
    store_->append(std::move(append), [this, h, who, room = home.name(), msg = std::move(msg),
                                       proto, slot](Result<store::AppendResult> r) mutable {
      posts_[h]([this, h, who, room, msg = std::move(msg), proto, r, slot]() mutable {
        Shard& shard = *shards_[h];
        RoomHome& home = home_on_this_loop(shard, room);
        --home.pending_ops;
        home.complete_slot(
            slot, [this, &home, who, room, msg = std::move(msg), proto, r]() mutable {
              if (!r) {
                // Not stored, so not acknowledged: the client keeps it pending
                // and may retry (docs/PROTOCOL.md, `internal`).
                if (!msg.client_id.empty()) {
                  to_member(who, error_frame(ErrorCode::Internal, "the message could not be stored",
                                             "send", msg.client_id, room));
                }
                return;
              }
              msg.id = r->id;
              msg.ts_ms = r->ts_ms;
              if (!r->duplicate) {
                commit_message(home, who, std::move(msg), proto);
              } else if (!msg.client_id.empty()) {
                to_member(who, ack_frame(room, msg.client_id, msg.id, msg.ts_ms, true));
              }
            });
        release_if_idle(shard, home);
      });
    });
  }
}

void ChatHub::commit_message(RoomHome& home, MemberRef who, ChatMessage msg,
                             Protocol sender_protocol) {
  RoomEvent event =
      message_event(home.name(), msg, sender_protocol, home.active_with(Protocol::Json) > 0,
                    home.active_with(Protocol::PlainText) > 0);
  uint64_t id = msg.id;
  if (!msg.client_id.empty()) {
    to_member(who, ack_frame(home.name(), msg.client_id, msg.id, msg.ts_ms, false));
  }
  home.append(std::move(msg));
  fan_out_now(home, event, who, id);
}

void ChatHub::typing(MemberRef who, const std::string& room) {
  at_home(room, [this, who](RoomHome& home) {
    RoomMember* m = home.find(who);
    if (m == nullptr || !m->active) return;
    fan_out(home, typing_event(home.name(), m->user, m->name), who);
  });
}

void ChatHub::history(MemberRef who, HistoryQuery q) {
  std::string room = q.room;
  at_home(room, [this, who, q = std::move(q)](RoomHome& home) { history_at_home(home, who, q); });
}

void ChatHub::history_at_home(RoomHome& home, MemberRef who, const HistoryQuery& q) {
  RoomMember* m = home.find(who);
  if (m == nullptr) return;
  if (!m->active) {
    m->waiting.push_back([this, &home, who, q] { history_at_home(home, who, q); });
    return;
  }
  std::size_t limit = std::clamp<std::size_t>(q.limit, 1, options_.page_max);
  // Behind the acks still waiting for the store, so the page includes what
  // the client was told is stored.
  if (store_ != nullptr) {
    // Committed history is the store's. The page is read off-loop, and its
    // answer keeps its place among the room's answers to this client (an
    // ack before it, a `left` after it).
    ++home.pending_ops;
    uint32_t h = home_of(home.name());
    auto slot = std::make_shared<uint64_t>(0);
    auto read = [this, h, who, slot, q, limit] {
      // TODO(lead): history_unavailable on a read error (see join).
      auto done = [this, h, who, slot, room = q.room](Result<store::HistoryPage> read) {
        store::HistoryPage page = read ? std::move(read).value() : store::HistoryPage{};
        posts_[h]([this, h, who, slot, room, page = std::move(page)]() mutable {
          Shard& shard = *shards_[h];
          RoomHome& home = home_on_this_loop(shard, room);
          --home.pending_ops;
          // Captured by value: the answer may wait behind an earlier slot.
          home.complete_slot(*slot, [this, who, room, page = std::move(page)] {
            auto msgs = from_stored(page.messages);
            to_member(who, history_frame(room, msgs, page.truncated));
          });
          release_if_idle(shard, home);
        });
      };
      if (q.after) {
        store_->after(q.room, *q.after, limit, std::move(done));
      } else {
        store_->before(q.room, q.before.value_or(UINT64_MAX), limit, std::move(done));
      }
    };
    // The read starts when the acks before it are out, i.e. stored.
    *slot = home.reserve_slot(std::move(read));
    return;
  }
  home.emit_in_order([this, &home, who, q, limit] {
    std::vector<ChatMessage> page;
    bool truncated = false;
    if (q.after) {
      page = home.cached_after(*q.after, limit).value_or(std::vector<ChatMessage>{});
      truncated = !page.empty() && page.back().id < home.last_id();
    } else {
      uint64_t before = q.before.value_or(UINT64_MAX);
      auto all = home.cached_recent(options_.cache_per_room).value_or(std::vector<ChatMessage>{});
      std::erase_if(all, [&](const auto& msg) { return msg.id >= before; });
      std::size_t n = std::min(limit, all.size());
      truncated = all.size() > n;
      page.assign(all.end() - static_cast<std::ptrdiff_t>(n), all.end());
    }
    to_member(who, history_frame(home.name(), page, truncated));
  });
}

void ChatHub::rename(MemberRef who, const std::string& room, std::string new_name) {
  at_home(room, [this, who, new_name = std::move(new_name)](RoomHome& home) {
    RoomMember* m = home.find(who);
    if (m == nullptr) return;
    std::string user = m->user;
    std::string old = m->name;
    std::string name = home.unique_name(new_name, user);
    if (name == old) return;
    for (auto& other : home.members()) {
      if (other.user == user) other.name = name;
    }
    if (!m->active) return;
    fan_out(home,
            presence_event(home.name(), PresenceKind::Renamed, user, name, old, home.connections(),
                           true),
            MemberRef{UINT32_MAX, 0, 0});
  });
}

}  // namespace parley::chat
