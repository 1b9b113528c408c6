// The directory of open rooms (the `rooms` request, docs/PROTOCOL.md): each
// room with someone in it and its counts, paged by people (most first) or by
// name, with a name-prefix filter that ignores case.
//
// The counts live on each room's home loop; the home reports every change
// (RoomHost::counts_changed) and the hub writes it here. One shard per home
// loop, each under its own mutex, so homes on different loops never contend
// with each other, only with a reader: an update is O(log n) under its
// shard's lock (n: the rooms homed on that loop). A page takes every shard's
// lock in turn, gathers at most limit + 1 candidates from each (O(log n +
// limit) by name; by people with a prefix, a walk of the shard's rooms in that
// order, which --max-rooms bounds) and merges them. Bounded by --max-rooms:
// only open rooms are listed, and a room is removed when its home closes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "chat/client_message.h"
#include "chat/server_event.h"

namespace parley::chat {

struct RoomsPage {
  std::vector<RoomSummary> rooms;
  std::string next;  // "" on the last page
  uint64_t total = 0;
};

class RoomDirectory {
 public:
  explicit RoomDirectory(std::size_t loops);
  RoomDirectory(const RoomDirectory&) = delete;
  RoomDirectory& operator=(const RoomDirectory&) = delete;

  // From `room`'s home loop `loop`: its counts now; users == 0 removes it.
  void update(uint32_t loop, const std::string& room, uint64_t users, uint64_t online);
  // Any thread. Only rooms `visible` accepts are listed (null: all); it is
  // called under a shard's lock and must be quick and pure.
  using Filter = std::function<bool(std::string_view room)>;
  RoomsPage page(const RoomsRequest& request, const Filter& visible = {}) const;

 private:
  // Sort keys. By name: (folded name, name). By people: (users, most first;
  // then the name key).
  using NameKey = std::pair<std::string, std::string>;
  using UsersKey = std::tuple<uint64_t, std::string, std::string>;  // (~users, folded, name)
  struct Entry {
    std::string folded;
    uint64_t users = 0;
    uint64_t online = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> rooms;
    std::set<NameKey> by_name;
    std::set<UsersKey> by_users;
  };
  struct Candidate {
    UsersKey key;  // by name: users part 0
    RoomSummary summary;
  };

  static UsersKey users_key(const std::string& room, const Entry& e);
  void collect(const Shard& shard, const RoomsRequest& request, const std::string& prefix,
               const UsersKey& after, const Filter& visible, std::vector<Candidate>& out) const;

  std::vector<Shard> shards_;
};

}  // namespace parley::chat
