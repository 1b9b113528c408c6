#include "chat/chat_hub.h"

#include <cassert>

#include <spdlog/spdlog.h>

#include "chat/chat_hub_shard.h"
#include "chat/events.h"

namespace parley::chat {

ChatHub::ChatHub(std::vector<LoopPort*> loops, History& history, Bus& bus, ChatOptions options)
    : loops_(std::move(loops)),
      history_(history),
      bus_(bus),
      options_(options),
      shared_(history.shared()),
      directory_(loops_.size()),
      callers_(loops_.size()) {
  options_.room.multi_node = shared_;
  bus_.listen(*this);
  if (options_.presence != nullptr && options_.presence->shared()) {
    options_.room.shared_presence = true;
    options_.presence->listen([this] { resync_presence(); });
  }
  std::size_t per_loop = options_.cache_bytes / std::max<std::size_t>(1, loops_.size());
  if (options_.cache_bytes > 0 && per_loop == 0) per_loop = 1;
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    shards_.push_back(std::make_unique<Shard>(per_loop));
  }
  for (auto& [room, id] : history_.last_ids()) shards_[home_of(room)]->last_ids[room] = id;
}

ChatHub::~ChatHub() = default;

void ChatHub::assert_on([[maybe_unused]] uint32_t loop) const {
  assert(loops_[loop]->in_loop_thread() && "chat state touched from another loop's thread");
}

uint32_t ChatHub::home_of(const std::string& room) const {
  return static_cast<uint32_t>(std::hash<std::string>{}(room) % shards_.size());
}

// --- members ------------------------------------------------------------------

MemberRef ChatHub::attach(uint32_t loop, Member* member) {
  assert_on(loop);
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
  assert_on(ref.loop);
  Shard& shard = *shards_[ref.loop];
  if (shard.find(ref) == nullptr) return;
  auto& s = shard.slots[ref.slot];
  s.member = nullptr;
  ++s.generation;
  shard.free_slots.push_back(ref.slot);
}

// --- requests: member's loop -> home --------------------------------------------

void ChatHub::join(MemberRef who, JoinRequest request) {
  assert_on(who.loop);
  std::string room = request.room;
  at_home(
      room, [who, request = std::move(request)](RoomHome& home) { home.join(who, request); },
      Open::IfMissing, who);
}

void ChatHub::leave(MemberRef who, const std::string& room, bool disconnected) {
  assert_on(who.loop);
  // Stop local delivery at once; the home forgets the member in its own time.
  Shard& shard = *shards_[who.loop];
  if (Member* member = shard.find(who)) {
    auto it = shard.local_rooms.find(room);
    if (it != shard.local_rooms.end()) {
      it->second.remove(member);
      if (it->second.empty()) shard.local_rooms.erase(it);
    }
  }
  at_home(room, [who, disconnected](RoomHome& home) { home.leave(who, disconnected); });
}

void ChatHub::send(MemberRef who, SendRequest request) {
  assert_on(who.loop);
  std::string room = request.room;
  at_home(room, [who, request = std::move(request)](RoomHome& home) mutable {
    home.send(who, std::move(request));
  });
}

void ChatHub::edit(MemberRef who, ChangeRequest request) {
  assert_on(who.loop);
  std::string room = request.room;
  at_home(room, [who, request = std::move(request)](RoomHome& home) mutable {
    home.edit(who, std::move(request));
  });
}

void ChatHub::delete_message(MemberRef who, ChangeRequest request) {
  assert_on(who.loop);
  std::string room = request.room;
  at_home(room, [who, request = std::move(request)](RoomHome& home) mutable {
    home.delete_message(who, std::move(request));
  });
}

void ChatHub::react(MemberRef who, ChangeRequest request, bool add) {
  assert_on(who.loop);
  std::string room = request.room;
  at_home(room, [who, request = std::move(request), add](RoomHome& home) mutable {
    home.react(who, std::move(request), add);
  });
}

void ChatHub::search(MemberRef who, SearchRequestAt request) {
  assert_on(who.loop);
  at_home(request.room,
          [who, query = std::move(request.query)](RoomHome& home) { home.search(who, query); });
}

void ChatHub::rooms(MemberRef who, const RoomsRequest& request,
                    const RoomDirectory::Filter& visible) {
  assert_on(who.loop);
  Member* m = shards_[who.loop]->find(who);
  if (m == nullptr) return;
  RoomsPage page = directory_.page(request, visible);
  m->deliver(make_shared_text(encode_rooms(RoomsView{page.rooms, page.next, page.total})));
}

void ChatHub::typing(MemberRef who, const std::string& room) {
  assert_on(who.loop);
  at_home(room, [who](RoomHome& home) { home.typing(who); });
}

void ChatHub::history(MemberRef who, HistoryQuery request) {
  assert_on(who.loop);
  at_home(request.room, [who, query = request.query](RoomHome& home) { home.history(who, query); });
}

void ChatHub::rename(MemberRef who, const std::string& room, std::string name) {
  assert_on(who.loop);
  at_home(room, [who, name = std::move(name)](RoomHome& home) { home.rename(who, name); });
}

void ChatHub::members(MemberRef who, const std::string& room, std::string after,
                      std::size_t limit) {
  assert_on(who.loop);
  at_home(room, [who, after = std::move(after), limit](RoomHome& home) {
    home.members(who, after, limit);
  });
}

void ChatHub::at_home(const std::string& room, std::function<void(RoomHome&)> step, Open open,
                      MemberRef joiner) {
  uint32_t loop = home_of(room);
  loops_[loop]->post([this, loop, room, step = std::move(step), open, joiner] {
    run_at_home(loop, room, step, open, joiner);
  });
}

void ChatHub::run_at_home(uint32_t loop, const std::string& room,
                          const std::function<void(RoomHome&)>& step, Open open, MemberRef joiner) {
  assert_on(loop);
  if (shared_) {
    Shard& shard = *shards_[loop];
    if (auto w = shard.opening.find(room); w != shard.opening.end()) {
      w->second.push_back({step, open == Open::IfMissing ? joiner : MemberRef{UINT32_MAX, 0, 0}});
      return;
    }
    if (open == Open::IfMissing && !shard.homes.contains(room)) {
      open_shared(loop, room, step, joiner);
      return;
    }
  }
  RoomHome* home = home_on_this_loop(loop, room, open);
  if (home == nullptr) {
    if (open == Open::IfMissing) {  // at the room limit
      rooms_refused_.fetch_add(1, std::memory_order_relaxed);
      loops_[joiner.loop]->post([this, joiner, room] { join_refused_on_loop(joiner, room); });
    }
    return;
  }
  step(*home);
  release_if_idle(*shards_[loop], *home);
}

void ChatHub::join_refused_on_loop(MemberRef who, const std::string& room) {
  assert_on(who.loop);
  if (Member* m = shards_[who.loop]->find(who)) m->join_refused(room);
}

RoomHome* ChatHub::home_on_this_loop(uint32_t loop, const std::string& room, Open open) {
  Shard& shard = *shards_[loop];
  auto it = shard.homes.find(room);
  if (it != shard.homes.end()) return it->second.get();
  if (open == Open::Never) return nullptr;
  // A relaxed count: loops may each open one room past the limit at once,
  // which bounds the excess by the number of loops.
  if (options_.max_rooms > 0 && live_rooms() >= options_.max_rooms) return nullptr;
  live_rooms_.fetch_add(1, std::memory_order_relaxed);
  bus_.subscribe(room);
  uint64_t last_id = 0;
  if (auto l = shard.last_ids.find(room); l != shard.last_ids.end()) {
    last_id = l->second;
    shard.last_ids.erase(l);
  }
  auto home = std::make_unique<RoomHome>(room, loop, last_id, options_.room, shard.cache_budget,
                                         static_cast<RoomHost&>(*this), shards_.size());
  return shard.homes.emplace(room, std::move(home)).first->second.get();
}

void ChatHub::release_if_idle(Shard& shard, RoomHome& home) {
  // An empty room costs nothing but its last id; its cache is rebuilt from
  // the history when someone comes back.
  if (!home.idle()) return;
  if (home.last_id() > 0) shard.last_ids[home.name()] = home.last_id();
  directory_.update(home.loop(), home.name(), 0, 0);
  if (options_.room.shared_presence) options_.presence->closed(home.name());
  bus_.unsubscribe(home.name());
  live_rooms_.fetch_sub(1, std::memory_order_relaxed);
  shard.homes.erase(home.name());
}

bool ChatHub::has_history(uint32_t loop, const std::string& room) const {
  return shards_[loop]->last_ids.contains(room);
}

void ChatHub::release_if_idle(uint32_t loop, RoomHome& home) {
  release_if_idle(*shards_[loop], home);
}

// --- store answers: History thread -> home ---------------------------------------

void ChatHub::append(const RoomHome& room, uint64_t ticket, const Message& message) {
  history_.append(room.name(), message,
                  [this, loop = room.loop(), name = room.name(), ticket](Result<Appended> r) {
                    on_appended(loop, name, ticket, std::move(r));
                  });
}

void ChatHub::read(const RoomHome& room, uint64_t ticket, const PageQuery& query) {
  history_.read(room.name(), query,
                [this, loop = room.loop(), name = room.name(), ticket](Result<Page> page) {
                  on_page(loop, name, ticket, std::move(page));
                });
}

void ChatHub::search(const RoomHome& room, uint64_t ticket, const SearchQuery& query) {
  history_.search(room.name(), query,
                  [this, loop = room.loop(), name = room.name(), ticket](Result<SearchPage> page) {
                    on_searched(loop, name, ticket, std::move(page));
                  });
}

void ChatHub::counts_changed(const RoomHome& room) {
  directory_.update(room.loop(), room.name(), room.members().users(), room.members().connections());
}

void ChatHub::publish(const RoomHome& room, const Message& message) {
  bus_.publish(room.name(), message);
}

void ChatHub::file_referenced(const RoomHome& room, const Message& message) {
  if (options_.attachments == nullptr) return;
  options_.attachments->referenced(room.name(), message.id, message.attachment.file, message.user);
}

void ChatHub::file_released(const RoomHome& room, uint64_t msg_id) {
  if (options_.attachments != nullptr) options_.attachments->released(room.name(), msg_id);
}

void ChatHub::flush_presence_after(const RoomHome& room, std::chrono::milliseconds delay) {
  loops_[room.loop()]->run_after(delay, [this, loop = room.loop(), name = room.name()] {
    flush_presence_at_home(loop, name);
  });
}

void ChatHub::flush_presence_at_home(uint32_t loop, const std::string& room) {
  run_at_home(loop, room, [](RoomHome& home) { home.flush_presence(); });
}

void ChatHub::on_appended(uint32_t loop, const std::string& room, uint64_t ticket,
                          Result<Appended> result) {
  // The home stays alive while it waits for this (RoomHome::idle).
  loops_[loop]->post([this, loop, room, ticket, result = std::move(result)]() mutable {
    run_at_home(loop, room, [&](RoomHome& home) { home.on_appended(ticket, std::move(result)); });
  });
}

void ChatHub::on_page(uint32_t loop, const std::string& room, uint64_t ticket, Result<Page> page) {
  loops_[loop]->post([this, loop, room, ticket, page = std::move(page)]() mutable {
    run_at_home(loop, room, [&](RoomHome& home) { home.on_page(ticket, std::move(page)); });
  });
}

void ChatHub::on_searched(uint32_t loop, const std::string& room, uint64_t ticket,
                          Result<SearchPage> page) {
  loops_[loop]->post([this, loop, room, ticket, page = std::move(page)]() mutable {
    run_at_home(loop, room, [&](RoomHome& home) { home.on_searched(ticket, std::move(page)); });
  });
}

// --- events and answers: home -> members' loops -----------------------------------

void ChatHub::broadcast(const RoomHome& room, const RoomEvent& event, MemberRef except,
                        std::vector<MemberRef> skip) {
  const auto& per_loop = room.members().active_per_loop();
  for (uint32_t loop = 0; loop < per_loop.size(); ++loop) {
    if (per_loop[loop] == 0) continue;
    loops_[loop]->post([this, loop, name = room.name(), event, except, skip] {
      deliver_on_loop(loop, name, event, except, skip);
    });
  }
}

void ChatHub::deliver_on_loop(uint32_t loop, const std::string& room, const RoomEvent& event,
                              MemberRef except, const std::vector<MemberRef>& skip) {
  assert_on(loop);
  Shard& shard = *shards_[loop];
  auto it = shard.local_rooms.find(room);
  if (it == shard.local_rooms.end()) return;
  if (skip.empty()) {
    it->second.deliver(event, except);
    return;
  }
  // Rare path: members that already hold the message in their joined history.
  LocalRoom filtered = it->second;
  for (const MemberRef& ref : skip) {
    if (ref.loop != loop) continue;  // slots are per loop
    if (Member* m = shard.find(ref)) filtered.remove(m);
  }
  filtered.deliver(event, except);
}

void ChatHub::activate(MemberRef who, const RoomHome& room, SharedText joined) {
  // Activation and the answer travel in one task, so no room event can reach
  // the member before its `joined`, and none sent after it is missed.
  loops_[who.loop]->post([this, who, name = room.name(), joined = std::move(joined)] {
    activate_on_loop(who, name, joined);
  });
}

void ChatHub::activate_on_loop(MemberRef who, const std::string& room, const SharedText& joined) {
  assert_on(who.loop);
  Shard& shard = *shards_[who.loop];
  Member* member = shard.find(who);
  if (member == nullptr) return;
  // Left again meanwhile: still answered (the client asked), not added.
  if (member->in_room(room)) shard.local_rooms[room].add(member, who);
  if (joined) member->deliver(joined);
}

void ChatHub::answer(MemberRef who, SharedText text) {
  loops_[who.loop]->post([this, who, text = std::move(text)] { answer_on_loop(who, text); });
}

void ChatHub::answer_on_loop(MemberRef who, const SharedText& text) {
  assert_on(who.loop);
  if (Member* m = shards_[who.loop]->find(who)) m->deliver(text);
}

void ChatHub::history_done(MemberRef who) {
  loops_[who.loop]->post([this, who] { history_done_on_loop(who); });
}

void ChatHub::history_done_on_loop(MemberRef who) {
  assert_on(who.loop);
  if (Member* m = shards_[who.loop]->find(who)) m->history_answered();
}

void ChatHub::search_done(MemberRef who) {
  loops_[who.loop]->post([this, who] { search_done_on_loop(who); });
}

void ChatHub::search_done_on_loop(MemberRef who) {
  assert_on(who.loop);
  if (Member* m = shards_[who.loop]->find(who)) m->search_answered();
}

void ChatHub::kicked(MemberRef who, const RoomHome& room) {
  loops_[who.loop]->post([this, who, name = room.name()] { kicked_on_loop(who, name); });
}

void ChatHub::kicked_on_loop(MemberRef who, const std::string& room) {
  assert_on(who.loop);
  Shard& shard = *shards_[who.loop];
  Member* member = shard.find(who);
  if (member == nullptr) return;
  // As a leave does: no event of the room reaches it from now on.
  if (auto it = shard.local_rooms.find(room); it != shard.local_rooms.end()) {
    it->second.remove(member);
    if (it->second.empty()) shard.local_rooms.erase(it);
  }
  member->kicked(room);
}

// --- metrics ----------------------------------------------------------------------

std::size_t ChatHub::cache_bytes() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) total += shard->cache_budget.bytes();
  return total;
}

uint64_t ChatHub::cache_evicted_messages() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) total += shard->cache_budget.evicted_messages();
  return total;
}

}  // namespace parley::chat
