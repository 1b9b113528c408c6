// ChatHub's routes for a roster shared by several nodes (chat/presence.h):
// the home's changes and reads to the Presence and their answers back to
// the home, changes from the bus to the home, and the resync of every room
// open here. Unused unless ChatOptions::presence is shared.
#include "chat/chat_hub.h"

namespace parley::chat {

void ChatHub::presence_change(const RoomHome& room, uint64_t ticket, const PresenceOp& op) {
  options_.presence->change(
      room.name(), op,
      [this, loop = room.loop(), name = room.name(),
       ticket](Result<std::vector<PresenceChangeEvent>> changes) {
        auto shared =
            std::make_shared<Result<std::vector<PresenceChangeEvent>>>(std::move(changes));
        loops_[loop]->post([this, loop, name, ticket, shared] {
          run_at_home(loop, name, [ticket, shared](RoomHome& home) {
            home.on_presence_changed(ticket, std::move(*shared));
          });
        });
      });
}

void ChatHub::presence_snapshot(const RoomHome& room) {
  options_.presence->snapshot(
      room.name(), [this, loop = room.loop(), name = room.name()](Result<RosterSnapshot> roster) {
        auto shared = std::make_shared<Result<RosterSnapshot>>(std::move(roster));
        loops_[loop]->post([this, loop, name, shared] {
          run_at_home(loop, name, [shared](RoomHome& home) { home.on_roster(std::move(*shared)); });
        });
      });
}

void ChatHub::check_presence_after(const RoomHome& room, std::chrono::milliseconds delay) {
  loops_[room.loop()]->run_after(delay, [this, loop = room.loop(), name = room.name()] {
    run_at_home(loop, name, [](RoomHome& home) { home.check_presence(); });
  });
}

void ChatHub::join_unavailable(MemberRef who, const RoomHome& room) {
  loops_[who.loop]->post([this, who, name = room.name()] { join_unavailable_on_loop(who, name); });
}

void ChatHub::on_bus_presence(const std::string& room, PresenceChangeEvent change) {
  at_home(room, [change = std::move(change)](RoomHome& home) mutable {
    home.on_remote_presence(std::move(change));
  });
}

void ChatHub::resync_presence() {
  for (uint32_t loop = 0; loop < loops_.size(); ++loop) {
    loops_[loop]->post([this, loop] { resync_presence_on_loop(loop); });
  }
}

}  // namespace parley::chat
