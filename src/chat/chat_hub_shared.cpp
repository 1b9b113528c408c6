#include "chat/chat_hub.h"

#include <spdlog/spdlog.h>

#include "chat/chat_hub_shard.h"

namespace parley::chat {

// --- several nodes: a shared History and the Bus --------------------------------
// Opening a room once its last id is known, messages and (re)subscriptions
// from the bus to the room's home, and the home's reads of what other nodes
// stored. Unused with a local History (shared_ is false).

void ChatHub::open_shared(uint32_t loop, const std::string& room,
                          const std::function<void(RoomHome&)>& step, MemberRef joiner,
                          std::optional<ApiCallRef> caller) {
  if (options_.max_rooms > 0 && live_rooms() >= options_.max_rooms) {
    if (caller) {
      api_answer(*caller, api_error(ApiErrorCode::RoomLimit,
                                    "the server has as many rooms open as it allows; retry later"));
    } else {
      loops_[joiner.loop]->post([this, joiner, room] { join_refused_on_loop(joiner, room); });
    }
    return;
  }
  live_rooms_.fetch_add(1, std::memory_order_relaxed);
  shards_[loop]->opening[room].push_back({step, joiner, caller});
  // Listening first: what is stored after the last id read below arrives on
  // the bus, or is read when the subscription is confirmed (catch_up).
  bus_.subscribe(room);
  history_.last_id(room, [this, loop, room](Result<uint64_t> last_id) {
    loops_[loop]->post([this, loop, room, last_id = std::move(last_id)]() mutable {
      on_room_position(loop, room, std::move(last_id));
    });
  });
}

bool ChatHub::wait_for_shared_open(uint32_t loop, const std::string& room,
                                   const std::function<void(RoomHome&)>& step, ApiCallRef caller) {
  assert_on(loop);
  Shard& shard = *shards_[loop];
  if (shard.homes.contains(room)) return false;
  if (auto w = shard.opening.find(room); w != shard.opening.end()) {
    w->second.push_back({step, MemberRef{UINT32_MAX, 0, 0}, caller});
  } else {
    open_shared(loop, room, step, MemberRef{UINT32_MAX, 0, 0}, caller);
  }
  return true;
}

void ChatHub::on_room_position(uint32_t loop, const std::string& room, Result<uint64_t> last_id) {
  assert_on(loop);
  Shard& shard = *shards_[loop];
  auto node = shard.opening.extract(room);
  if (node.empty()) return;
  std::vector<Shard::Waiting> waiting = std::move(node.mapped());
  if (!last_id) {
    spdlog::warn("room {}: cannot open: {}", room, last_id.error().message);
    live_rooms_.fetch_sub(1, std::memory_order_relaxed);
    bus_.unsubscribe(room);
    for (const Shard::Waiting& w : waiting) {
      if (w.caller) {
        api_answer(*w.caller,
                   api_error(ApiErrorCode::Unavailable, "the room cannot be opened now; retry"));
        continue;
      }
      if (w.joiner.loop == UINT32_MAX) continue;
      loops_[w.joiner.loop]->post(
          [this, who = w.joiner, room] { join_unavailable_on_loop(who, room); });
    }
    return;
  }
  auto created = std::make_unique<RoomHome>(room, loop, *last_id, options_.room, shard.cache_budget,
                                            static_cast<RoomHost&>(*this), shards_.size());
  RoomHome& home = *shard.homes.emplace(room, std::move(created)).first->second;
  for (const Shard::Waiting& w : waiting) w.step(home);
  release_if_idle(shard, home);
}

void ChatHub::join_unavailable_on_loop(MemberRef who, const std::string& room) {
  assert_on(who.loop);
  if (Member* m = shards_[who.loop]->find(who)) m->join_unavailable(room);
}

// --- the bus -----------------------------------------------------------------------

void ChatHub::on_bus_message(const std::string& room, Message message) {
  at_home(room, [message = std::move(message)](RoomHome& home) mutable {
    home.on_remote_message(std::move(message));
  });
}

void ChatHub::on_bus_subscribed(const std::string& room) {
  at_home(room, [](RoomHome& home) { home.catch_up(); });
}

// --- reads of what other nodes stored ---------------------------------------------

void ChatHub::read_gap(const RoomHome& room, const PageQuery& query) {
  history_.read(room.name(), query,
                [this, loop = room.loop(), name = room.name()](Result<Page> page) {
                  // Shared: the step may wait while the room is (re)opened.
                  auto shared = std::make_shared<Result<Page>>(std::move(page));
                  loops_[loop]->post([this, loop, name, shared] {
                    run_at_home(loop, name,
                                [shared](RoomHome& home) { home.on_gap_page(std::move(*shared)); });
                  });
                });
}

void ChatHub::resync_presence_on_loop(uint32_t loop) {
  assert_on(loop);
  for (auto& [name, home] : shards_[loop]->homes) home->resync_presence();
}

void ChatHub::fill_gap_after(const RoomHome& room, std::chrono::milliseconds delay) {
  loops_[room.loop()]->run_after(delay, [this, loop = room.loop(), name = room.name()] {
    run_at_home(loop, name, [](RoomHome& home) { home.fill_gap(); });
  });
}

}  // namespace parley::chat
