// Rooms across event loops.
//
// Every room has a home loop (hash of its name). The home holds the room's
// authoritative state (RoomHome) and orders its events; members live on
// whichever loop accepted their connection. A request travels from the
// member's loop to the home as one posted task; an event travels from the home
// to each loop that has members in the room as one posted task carrying one
// shared, already-encoded frame, which that loop hands to its local members.
// So a broadcast costs one cross-thread hand-off per loop, not per recipient,
// and no lock is ever held while touching a room.
//
// Persistence: when a HistoryStore is given, a message is fanned out and
// acknowledged only after the store has committed it (the no-loss promise);
// without one, ids are assigned in memory (benchmarks, --history off).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/chat_message.h"
#include "chat/member.h"
#include "chat/room.h"
#include "chat/room_home.h"

namespace parley::store {
class HistoryStore;
}

namespace parley::chat {

struct ChatOptions {
  std::size_t join_history = 50;     // messages in `joined` without `since`
  std::size_t cache_per_room = 256;  // recent messages kept in memory per room
  std::size_t page_max = 200;        // largest history page
  std::size_t retain_per_room = 0;   // the store's retention by count (0 = all)
};

struct JoinRequest {
  std::string room;
  std::string user;
  std::string name;
  Protocol protocol = Protocol::Json;
  std::optional<uint64_t> since;
};

struct SendRequest {
  std::string room;
  std::string user;
  std::string client_id;  // empty: no dedup, no ack (plain text)
  std::string text;
};

struct HistoryQuery {
  std::string room;
  std::optional<uint64_t> before;
  std::optional<uint64_t> after;
  std::size_t limit = 50;
};

class ChatHub {
 public:
  // Runs a task on loop i (thread-safe). One per event loop.
  using Post = std::function<void(std::function<void()>)>;

  ChatHub(std::vector<Post> loops, store::HistoryStore* store, ChatOptions options);
  ~ChatHub();
  ChatHub(const ChatHub&) = delete;
  ChatHub& operator=(const ChatHub&) = delete;

  // Rooms' last message ids from the store, before the loops start.
  void seed_last_id(const std::string& room, uint64_t id);

  // Called on the member's own loop.
  MemberRef attach(uint32_t loop, Member* member);
  void detach(MemberRef ref);
  void join(MemberRef who, JoinRequest req);
  void leave(MemberRef who, const std::string& room);
  void send(MemberRef who, SendRequest req);
  void typing(MemberRef who, const std::string& room);
  void history(MemberRef who, HistoryQuery q);
  void rename(MemberRef who, const std::string& room, std::string new_name);

  std::size_t loop_count() const { return shards_.size(); }

 private:
  struct Shard;

  uint32_t home_of(const std::string& room) const;
  // Runs `fn` with the room's home on its home loop.
  void at_home(const std::string& room, std::function<void(RoomHome&)> fn);
  RoomHome& home_on_this_loop(Shard& shard, const std::string& room);
  void release_if_idle(Shard& shard, RoomHome& home);
  // Runs `fn` with the member on its loop, if it still exists.
  void at_member(MemberRef ref, std::function<void(Member&)> fn);
  void to_member(MemberRef ref, SharedFrame frame);
  // Room events other than messages: ordered behind messages being stored.
  void fan_out(RoomHome& home, const RoomEvent& event, MemberRef except);
  void fan_out_now(RoomHome& home, const RoomEvent& event, MemberRef except, uint64_t msg_id);

  void leave_at_home(RoomHome& home, MemberRef who);
  void send_at_home(RoomHome& home, MemberRef who, SendRequest req);
  void history_at_home(RoomHome& home, MemberRef who, const HistoryQuery& q);
  void finish_join(RoomHome& home, MemberRef who, std::vector<ChatMessage> history, bool truncated);
  void commit_message(RoomHome& home, MemberRef who, ChatMessage msg, Protocol sender_protocol);

  std::vector<Post> posts_;
  std::vector<std::unique_ptr<Shard>> shards_;
  store::HistoryStore* store_;
  ChatOptions options_;
};

}  // namespace parley::chat
