// ChatHub's per-loop state, shared by the files that implement ChatHub
// (chat_hub.cpp, chat_hub_shared.cpp): not part of its interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/chat_hub.h"

namespace parley::chat {

// Per-loop state. Touched only from its own loop's thread.
struct ChatHub::Shard {
  explicit Shard(std::size_t cache_bytes) : cache_budget(cache_bytes) {}

  // Members living on this loop: generation-checked slots, so a handle that
  // outlives its member resolves to nothing.
  struct Slot {
    Member* member = nullptr;
    uint32_t generation = 0;
  };
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, LocalRoom> local_rooms;

  // Shared by the caches of this loop's rooms: declared before them, so it
  // outlives them.
  CacheBudget cache_budget;
  // Rooms whose home is this loop.
  std::unordered_map<std::string, std::unique_ptr<RoomHome>> homes;
  // Last ids of rooms with history but no live home.
  std::unordered_map<std::string, uint64_t> last_ids;
  // Shared history: rooms being opened, and the steps waiting for them.
  struct Waiting {
    std::function<void(RoomHome&)> step;
    MemberRef joiner;                       // a join's member (loop UINT32_MAX: not a join)
    std::optional<ApiCallRef> caller = {};  // an API post's caller (told if the room cannot open)
  };
  std::unordered_map<std::string, std::vector<Waiting>> opening;

  Member* find(MemberRef ref) const {
    if (ref.slot >= slots.size()) return nullptr;
    const Slot& s = slots[ref.slot];
    return s.generation == ref.generation ? s.member : nullptr;
  }
};

}  // namespace parley::chat
