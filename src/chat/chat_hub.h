// Rooms across event loops: the router.
//
// Every room has a home loop (a hash of its name) where its RoomHome lives
// and orders everything that happens in it; members live on whichever loop
// accepted their connection. ChatHub only routes:
// - a request goes from the member's loop to the room's home as one posted
//   task (at_home), which calls the RoomHome step of the same name;
// - a store answer goes from the History's thread to the home the same way
//   (on_appended / on_page);
// - an event goes from the home to each loop that has members in the room as
//   one posted task carrying one shared text per protocol, which that loop's
//   LocalRoom hands to its members. A broadcast thus costs one encoding and
//   one cross-thread hand-off per loop, never per recipient, and no lock is
//   ever held while touching a room.
// Each hop is a named member function; lambdas only carry arguments to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/api_call.h"
#include "chat/bus.h"
#include "chat/history.h"
#include "chat/loop_port.h"
#include "chat/member.h"
#include "chat/room.h"
#include "chat/room_directory.h"
#include "chat/room_home.h"

namespace parley::chat {

struct ChatOptions {
  RoomOptions room{};
  // Bytes of cached messages across all rooms, split evenly between loops
  // (each loop evicts from its least recently used rooms). 0 = no limit.
  std::size_t cache_bytes = 64 << 20;
  // Rooms with someone in them (or work in flight), across all loops; a join
  // that would open one more is refused (Member::join_refused). 0 = no limit.
  std::size_t max_rooms = 10000;
  // Uploads: the file store that attachments are claimed from and released
  // to (chat/attachment.h); null: sends with a file are refused.
  Attachments* attachments = nullptr;
  // Presence shared by several nodes (chat/presence.h; the Redis engine);
  // null or not shared: the room's home knows everybody.
  Presence* presence = nullptr;
};

class ChatHub final : private RoomHost, private BusListener {
 public:
  // One port per event loop; they outlive the hub.
  ChatHub(std::vector<LoopPort*> loops, History& history, Bus& bus, ChatOptions options);
  ~ChatHub();
  ChatHub(const ChatHub&) = delete;
  ChatHub& operator=(const ChatHub&) = delete;

  // Called on the member's own loop.
  MemberRef attach(uint32_t loop, Member* member);
  void detach(MemberRef ref);
  void join(MemberRef who, JoinRequest request);
  // `disconnected`: the connection closed (its pending work is cancelled).
  void leave(MemberRef who, const std::string& room, bool disconnected = false);
  void send(MemberRef who, SendRequest request);
  void edit(MemberRef who, ChangeRequest request);
  void delete_message(MemberRef who, ChangeRequest request);
  void react(MemberRef who, ChangeRequest request, bool add);
  void typing(MemberRef who, const std::string& room);
  void history(MemberRef who, HistoryQuery request);
  void search(MemberRef who, SearchRequestAt request);
  // The directory of open rooms, answered at once from the member's loop.
  // With a filter, only the rooms it accepts (a token's rooms claim).
  void rooms(MemberRef who, const RoomsRequest& request, const RoomDirectory::Filter& visible = {});
  void rename(MemberRef who, const std::string& room, std::string name);
  void members(MemberRef who, const std::string& room, std::string after, std::size_t limit);

  // Backend API (docs/API.md, chat/api_call.h; chat_hub_api.cpp). Called on
  // the caller's loop; each call is answered once, on that loop, through
  // ApiCaller::api_answered, unless its caller was detached first.
  ApiCallRef attach_caller(uint32_t loop, ApiCaller* caller);
  void detach_caller(ApiCallRef ref);
  // Opens the room if needed (RoomLimit when it cannot be opened).
  void api_post(ApiCallRef caller, ApiPost post);
  // RoomNotFound for a room that is not open and has no history.
  void api_history(ApiCallRef caller, std::string room, PageQuery query);
  void api_members(ApiCallRef caller, std::string room, std::string after, std::size_t limit);
  void api_kick(ApiCallRef caller, std::string room, std::string user);
  // Any thread: a page of the directory of open rooms.
  RoomsPage rooms_page(const RoomsRequest& request) const { return directory_.page(request); }

  // Any thread (GET /metrics).
  std::size_t live_rooms() const { return live_rooms_.load(std::memory_order_relaxed); }
  std::size_t cache_bytes() const;
  uint64_t cache_evicted_messages() const;
  // Joins refused because --max-rooms rooms were open.
  uint64_t rooms_refused() const { return rooms_refused_.load(std::memory_order_relaxed); }

 private:
  struct Shard;

  uint32_t home_of(const std::string& room) const;
  // Runs `step` with the room's home, on its home loop. Only a join opens a
  // room: any other request for a room nobody is in has nothing to act on.
  enum class Open { IfMissing, Never };
  void at_home(const std::string& room, std::function<void(RoomHome&)> step,
               Open open = Open::Never, MemberRef joiner = {});
  void run_at_home(uint32_t loop, const std::string& room,
                   const std::function<void(RoomHome&)>& step, Open open = Open::Never,
                   MemberRef joiner = {});
  RoomHome* home_on_this_loop(uint32_t loop, const std::string& room, Open open);
  void flush_presence_at_home(uint32_t loop, const std::string& room);
  void join_refused_on_loop(MemberRef who, const std::string& room);
  // Rooms of a shared History (several nodes): a room opens once its last id
  // is read, and what is asked of it meanwhile waits .
  void open_shared(uint32_t loop, const std::string& room,
                   const std::function<void(RoomHome&)>& step, MemberRef joiner,
                   std::optional<ApiCallRef> caller = std::nullopt);
  // A backend API post to a room not open on this node: `step` waits for the
  // room's opening (true), or the room is open and nothing waits (false).
  bool wait_for_shared_open(uint32_t loop, const std::string& room,
                            const std::function<void(RoomHome&)>& step, ApiCallRef caller);
  void on_room_position(uint32_t loop, const std::string& room, Result<uint64_t> last_id);
  void join_unavailable_on_loop(MemberRef who, const std::string& room);
  void release_if_idle(Shard& shard, RoomHome& home);

  // Store answers, from the History's threads to the room's home.
  void on_appended(uint32_t loop, const std::string& room, uint64_t ticket,
                   Result<Appended> result);
  void on_page(uint32_t loop, const std::string& room, uint64_t ticket, Result<Page> page);
  void on_searched(uint32_t loop, const std::string& room, uint64_t ticket,
                   Result<SearchPage> page);

  // Backend API steps on the room's home loop, and the answer's hop back.
  void api_post_at_home(uint32_t loop, ApiCallRef caller, ApiPost& post);
  void api_history_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                           const PageQuery& query);
  void api_members_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                           const std::string& after, std::size_t limit);
  void api_kick_at_home(uint32_t loop, ApiCallRef caller, const std::string& room,
                        const std::string& user);
  // A page of a room with history but no open home, on the History's thread.
  void api_page_read(ApiCallRef caller, const std::string& room, bool after, Result<Page> page);
  void api_answer_on_loop(ApiCallRef caller, ApiAnswer& answer);
  // Whether the home loop `loop` knows `room` has history (it is not open).
  bool has_history(uint32_t loop, const std::string& room) const;
  void release_if_idle(uint32_t loop, RoomHome& home);

  // On a member's loop.
  void deliver_on_loop(uint32_t loop, const std::string& room, const RoomEvent& event,
                       MemberRef except, const std::vector<MemberRef>& skip);
  void activate_on_loop(MemberRef who, const std::string& room, const SharedText& joined);
  void answer_on_loop(MemberRef who, const SharedText& text);
  void history_done_on_loop(MemberRef who);
  void search_done_on_loop(MemberRef who);
  void kicked_on_loop(MemberRef who, const std::string& room);

  // RoomHost, called by RoomHome on the home loop.
  void answer(MemberRef who, SharedText text) override;
  void history_done(MemberRef who) override;
  void search_done(MemberRef who) override;
  void counts_changed(const RoomHome& room) override;
  void activate(MemberRef who, const RoomHome& room, SharedText joined) override;
  void broadcast(const RoomHome& room, const RoomEvent& event, MemberRef except,
                 std::vector<MemberRef> skip) override;
  void append(const RoomHome& room, uint64_t ticket, const Message& message) override;
  void read(const RoomHome& room, uint64_t ticket, const PageQuery& query) override;
  void search(const RoomHome& room, uint64_t ticket, const SearchQuery& query) override;
  void flush_presence_after(const RoomHome& room, std::chrono::milliseconds delay) override;
  void publish(const RoomHome& room, const Message& message) override;
  void api_answer(ApiCallRef caller, ApiAnswer answer) override;
  void kicked(MemberRef who, const RoomHome& room) override;
  void file_referenced(const RoomHome& room, const Message& message) override;
  void file_released(const RoomHome& room, uint64_t msg_id) override;
  void read_gap(const RoomHome& room, const PageQuery& query) override;
  void fill_gap_after(const RoomHome& room, std::chrono::milliseconds delay) override;
  // Shared presence (chat_hub_presence.cpp).
  void presence_change(const RoomHome& room, uint64_t ticket, const PresenceOp& op) override;
  void presence_snapshot(const RoomHome& room) override;
  void check_presence_after(const RoomHome& room, std::chrono::milliseconds delay) override;
  void join_unavailable(MemberRef who, const RoomHome& room) override;
  void on_bus_presence(const std::string& room, PresenceChangeEvent change) override;
  // Every room open on this node sets its members in the roster again.
  void resync_presence();
  void resync_presence_on_loop(uint32_t loop);

  // BusListener, from the bus' thread to the room's home.
  void on_bus_message(const std::string& room, Message message) override;
  void on_bus_subscribed(const std::string& room) override;

  // Debug builds check that every entry point runs on the loop that owns
  // what it touches (the member's loop, or the room's home).
  void assert_on(uint32_t loop) const;

  std::vector<LoopPort*> loops_;
  std::vector<std::unique_ptr<Shard>> shards_;
  History& history_;
  Bus& bus_;
  ChatOptions options_;
  const bool shared_;  // history_.shared(), asked once
  std::atomic<std::size_t> live_rooms_{0};
  std::atomic<uint64_t> rooms_refused_{0};
  RoomDirectory directory_;
  std::vector<ApiCallerTable> callers_;  // per loop
};

}  // namespace parley::chat
