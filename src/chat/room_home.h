// One room's life, owned by the room's home loop (chosen by hashing its name).
//
// RoomHome is the only owner of a room's state: its members and their names
// (RoomMembers), its recent messages (RoomCache), the order of its events and
// of its answers, and the store round trips in flight. Every request reaches
// it as a named step (join, leave, send, edit, delete_message, react, typing,
// history, search, rename, members) and every store answer as another
// (on_appended, on_page, on_searched); what it needs from the
// world (reaching members on their loops, the History) goes through RoomHost,
// which ChatHub implements. Nothing else touches a room, so every member sees
// the same order of events, whatever loop its connection lives on.
//
// Two orders are kept:
// - The room's events. A message waiting for the store holds its place in the
//   room's outbox; what happened after it (another message, a presence or
//   typing event) goes out only after it, so that, say, a sender's last
//   message reaches the others before the notice that it left.
// - Each member's answers (joined, ack, history, search_results, members,
//   left) in the order of its requests. A read starts only when the member's
//   earlier answers are out (the page then holds what the client was told is
//   stored), and it waits behind that member's own requests only: one
//   member's reads never delay another member's acks or the room's events.
//
// The room's log (chat/message.h): a message and a change of an earlier one
// (edit, delete, react, unreact) take the same path, one entry each: a place
// in the outbox and in the author's answers, History::append (which checks
// the change against its target and applies it in the same step), then the
// ack, the event and the cache (which applies the change to its copy). Pages
// read from the History are refreshed with the changes the cache holds that
// were stored while they were being read, so a page is never older than the
// events a member got before it.
//
// A joining member is inactive (gets no events) until its `joined` is
// answered; activation and the answer travel together (RoomHost::activate),
// so no event reaches it before `joined` and none committed after its
// history is missed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "base/lazy_deque.h"
#include "chat/api_call.h"
#include "chat/events.h"
#include "chat/history.h"
#include "chat/member.h"
#include "chat/presence.h"
#include "chat/room_cache.h"
#include "chat/room_members.h"

namespace parley::chat {

class RoomHome;

// What a room needs from outside. Implemented by ChatHub; a fake in tests.
class RoomHost {
 public:
  // A text for one member (an answer), on the member's loop.
  virtual void answer(MemberRef who, SharedText text) = 0;
  // A `history` (`search`) request of `who` is done (answered, or dropped as
  // it left).
  virtual void history_done(MemberRef who) = 0;
  virtual void search_done(MemberRef who) = 0;
  // The room's counts (users, connections) changed: for the directory.
  virtual void counts_changed(const RoomHome& room) = 0;
  // `who`'s join is answered: from now on it receives the room's events.
  // `joined` (null for plain text) reaches it in the same step.
  virtual void activate(MemberRef who, const RoomHome& room, SharedText joined) = 0;
  // An event for every active member of the room but `except` and `skip`.
  virtual void broadcast(const RoomHome& room, const RoomEvent& event, MemberRef except,
                         std::vector<MemberRef> skip) = 0;
  // Store round trips: the result comes back as room.on_appended / on_page,
  // later, on the room's home loop.
  virtual void append(const RoomHome& room, uint64_t ticket, const Message& message) = 0;
  virtual void read(const RoomHome& room, uint64_t ticket, const PageQuery& query) = 0;
  virtual void search(const RoomHome& room, uint64_t ticket, const SearchQuery& query) = 0;
  // A message this room stored, for the members on other nodes (chat/bus.h).
  virtual void publish(const RoomHome& room, const Message& message) = 0;
  // Uploads (chat/attachment.h): a stored message references its file; a
  // stored delete releases the file of its target.
  virtual void file_referenced(const RoomHome& room, const Message& message) = 0;
  virtual void file_released(const RoomHome& room, uint64_t msg_id) = 0;
  // Calls room.flush_presence() after `delay`, on the room's home loop.
  virtual void flush_presence_after(const RoomHome& room, std::chrono::milliseconds delay) = 0;
  // Backend API: the answer of a call, delivered on the caller's loop.
  virtual void api_answer(ApiCallRef caller, ApiAnswer answer) = 0;
  // `who` was removed from the room (api_kick): its loop stops delivering
  // the room's events to it, and tells it.
  virtual void kicked(MemberRef who, const RoomHome& room) = 0;
  // Multi-node rooms only (RoomOptions::multi_node): a read of messages other
  // nodes stored, answered as room.on_gap_page; room.fill_gap() after `delay`.
  virtual void read_gap(const RoomHome& room, const PageQuery& query) {
    (void)room;
    (void)query;
  }
  virtual void fill_gap_after(const RoomHome& room, std::chrono::milliseconds delay) {
    (void)room;
    (void)delay;
  }
  // Shared presence (RoomOptions::shared_presence, room_home_presence.cpp):
  // a change of the shared roster, answered as room.on_presence_changed; a
  // read of the whole roster, answered as room.on_roster;
  // room.check_presence() after `delay`.
  virtual void presence_change(const RoomHome& room, uint64_t ticket, const PresenceOp& op) {
    (void)room;
    (void)ticket;
    (void)op;
  }
  virtual void presence_snapshot(const RoomHome& room) { (void)room; }
  virtual void check_presence_after(const RoomHome& room, std::chrono::milliseconds delay) {
    (void)room;
    (void)delay;
  }
  // `who`'s join failed: the shared roster could not be reached.
  virtual void join_unavailable(MemberRef who, const RoomHome& room) {
    (void)who;
    (void)room;
  }

 protected:
  ~RoomHost() = default;
};

struct RoomOptions {
  std::size_t join_history = 50;         // messages in `joined` without `since`
  std::size_t page_max = 200;            // largest page, in messages
  std::size_t answer_bytes = 256 << 10;  // largest `joined` / `history` answer, in bytes
  std::size_t joined_members = 100;      // users listed in `joined`
  // Large rooms: presence is coalesced over `presence_interval` once a room
  // has `presence_batch_above` connections (0 = never), naming at most
  // `presence_batch_names` joiners and leavers per batch.
  std::size_t presence_batch_above = 100;
  std::chrono::milliseconds presence_interval{100};
  std::size_t presence_batch_names = 20;
  RoomCache::Limits cache{};
  // Other nodes store messages into the same rooms (the Redis engine): ids
  // may reach the home out of order and are delivered in order, gaps filled
  // from the History (room_home_remote.cpp).
  bool multi_node = false;
  std::chrono::milliseconds gap_grace{50};  // a gap waits this long for its fill
  // The roster is shared by several nodes (chat/presence.h): names, members
  // and counts cover every node (room_home_presence.cpp).
  bool shared_presence = false;
  std::chrono::milliseconds presence_grace{200};  // a presence gap waits this long
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
  std::string client_id;  // empty: no dedup, no ack (plain text)
  std::string text;
  uint64_t reply_to = 0;    // the message it answers; 0: none
  Attachment attachment{};  // claimed by the session (chat/attachment.h); empty: none
};

// An edit, delete, react or unreact of message `target`.
struct ChangeRequest {
  std::string room;
  std::string client_id;
  uint64_t target = 0;
  std::string text;  // edit: the new text; react, unreact: the emoji
};

struct HistoryQuery {
  std::string room;
  PageQuery query;
};

struct SearchRequestAt {
  std::string room;
  SearchQuery query;
};

class RoomHome {
 public:
  RoomHome(std::string name, uint32_t loop, uint64_t last_id, const RoomOptions& options,
           CacheBudget& budget, RoomHost& host, std::size_t loops);
  RoomHome(const RoomHome&) = delete;
  RoomHome& operator=(const RoomHome&) = delete;

  const std::string& name() const { return name_; }
  uint32_t loop() const { return loop_; }
  uint64_t last_id() const { return cache_.last_id(); }
  const RoomMembers& members() const { return members_; }
  // Nobody in it and nothing in flight: the hub may forget it (its last id
  // is all that needs keeping).
  bool idle() const;

  // Requests, on the home loop.
  void join(MemberRef who, const JoinRequest& request);
  // `disconnected`: the connection is gone, not just out of this room.
  void leave(MemberRef who, bool disconnected = false);
  void send(MemberRef who, SendRequest request);
  void edit(MemberRef who, ChangeRequest request);
  void delete_message(MemberRef who, ChangeRequest request);
  // react (`add`) or unreact
  void react(MemberRef who, ChangeRequest request, bool add);
  void typing(MemberRef who);
  void history(MemberRef who, const PageQuery& query);
  void search(MemberRef who, const SearchQuery& query);
  void rename(MemberRef who, std::string_view name);
  void members(MemberRef who, std::string_view after, std::size_t limit);
  // The presence coalesced since the last flush goes out (large rooms).
  void flush_presence();
  // Backend API steps (room_home_api.cpp), each answered through
  // RoomHost::api_answer. A post is an entry of the log like a send, from a
  // user that is not a member; a read is a `history` page without a member;
  // a kick removes every connection of `user` from the room.
  void api_post(ApiCallRef caller, ApiPost post);
  void api_read(ApiCallRef caller, const PageQuery& query);
  void api_members(ApiCallRef caller, std::string_view after, std::size_t limit);
  void api_kick(ApiCallRef caller, const std::string& user);
  // Store answers, on the home loop.
  void on_appended(uint64_t ticket, Result<Appended> result);
  void on_page(uint64_t ticket, Result<Page> result);
  void on_searched(uint64_t ticket, Result<SearchPage> result);

  // Multi-node rooms (room_home_remote.cpp), on the home loop.
  // A message another node stored.
  void on_remote_message(Message message);
  // This node listens to the room (again): read what it may have missed.
  void catch_up();
  // A gap in the ids is still open after the grace time: read it.
  void fill_gap();
  void on_gap_page(Result<Page> page);

  // Shared presence (room_home_presence.cpp), on the home loop.
  void on_presence_changed(uint64_t ticket, Result<std::vector<PresenceChangeEvent>> changes);
  void on_roster(Result<RosterSnapshot> roster);
  // A change another node (or this one) made, from the bus.
  void on_remote_presence(PresenceChangeEvent change);
  // A presence gap outlived the grace time, or the roster could not be read.
  void check_presence();
  // This node's members may be missing from the shared roster: set them again.
  void resync_presence();

 private:
  // Store work in flight, by ticket.
  // An entry of the log on its way to the History.
  struct PendingSend {
    MemberRef who;
    Message message;
    Protocol protocol;
    std::optional<ApiCallRef> caller{};  // posted by the backend API: answered to it
  };
  struct PendingRead {
    MemberRef who;
    bool for_join;                  // a join's history, else a `history` request
    std::optional<uint64_t> since;  // for a join
    PageQuery query;
    std::string viewer;                  // the member's user (reactions' `me`)
    std::optional<ApiCallRef> caller{};  // a read of the backend API: answered to it
    // Set when its connection is gone while the History reads it (ReadFor).
    std::shared_ptr<std::atomic<bool>> cancelled{};
  };
  struct PendingSearch {
    MemberRef who;
    SearchQuery query;
    std::string viewer;
    std::shared_ptr<std::atomic<bool>> cancelled{};
  };
  // A room event in the room's outbox: ready, or waiting for a message's store.
  struct RoomSlot {
    uint64_t ticket = 0;  // 0: ready
    RoomEvent event;
    MemberRef except;
    uint64_t msg_id = 0;
  };
  // An answer in a member's queue: ready text, an append in flight, or a read
  // to start (or in flight) when it reaches the head.
  struct AnswerSlot {
    enum class State { Ready, Appending, ReadQueued, Reading } state = State::Ready;
    // A read the session counts (at most a few in flight): done when answered.
    enum class Counted : uint8_t { None, History, Search };
    uint64_t ticket = 0;
    SharedText text;
    Counted counted = Counted::None;
    bool activates = false;  // a new member's `joined`: starts its events too
    uint64_t stored_id = 0;  // the ack of a new message: its msg_id
  };
  // A join's history, read before the member's own sends queued behind the
  // join were stored: it waits for them (park_join).
  struct ParkedJoin {
    uint64_t ticket = 0;
    PendingRead read;
    std::vector<Message> history;
    bool truncated = false;
  };

  // Steps of a join.
  void continue_join(MemberRef who, const JoinRequest& request);
  void activate_plain(RoomMember& m);
  void start_join_read(MemberRef who, const JoinRequest& request);
  void finish_join(uint64_t ticket, const PendingRead& read, std::vector<Message> history,
                   bool truncated);
  void announce_join(const RoomMember& m);
  // A join's history leaves out the member's own messages sent behind it
  // (their acks follow `joined`): it waits until their ids are known.
  bool own_store_in_flight_after(MemberRef who, uint64_t join_ticket) const;
  void resume_parked_join(MemberRef who);
  void drop_own_later_messages(MemberRef who, uint64_t join_ticket,
                               std::vector<Message>& history) const;
  // Steps of a leave.
  void complete_leave(MemberRef who);
  // Takes a connection out of the room (presence told); returns whether it was there.
  bool remove_member(MemberRef who, Protocol* protocol = nullptr);
  // Presence: one event now, or into the batch of a large room.
  void announce(const PresenceChange& change, MemberRef except);
  bool batching_presence() const;
  // Shared presence: a join's claim of the user in the roster, a change
  // sent, the changes applied in seq order and announced.
  void claim(MemberRef who, const JoinRequest& request);
  bool claiming(MemberRef who, const JoinRequest& request);
  void send_presence(const PresenceOp& op, uint64_t ticket = 0);
  void claim_failed(uint64_t ticket);
  void release_presence();
  void announce_change(const PresenceChangeEvent& change);
  void request_roster();
  // Steps of an entry of the log (a send or a change).
  void change(MemberRef who, ChangeRequest request, EntryKind kind);
  Message authored_by(const RoomMember& m, std::string client_id, std::string text) const;
  void store_entry(MemberRef who, Message entry, Protocol protocol);
  void finish_store(uint64_t ticket, PendingSend send, Result<Appended> result);
  void refused(uint64_t ticket, const PendingSend& send, const Error& error);
  void stored(uint64_t ticket, PendingSend send, const Appended& result);
  // Steps of a read (a join's history, a `history` or `search` request).
  // Multi-node: messages in msg_id order, whatever node stored them.
  void sequence_local(uint64_t ticket, Message message, RoomEvent event, MemberRef sender);
  void release_in_order();
  void acknowledge(uint64_t ticket, const Message& message, MemberRef sender);
  // The ack of a stored entry, in its author's answers (both engines).
  void fill_ack(MemberRef who, uint64_t ticket, const Message& entry);
  void start_gap_read();
  void start_read(AnswerSlot& slot);
  void finish_read(uint64_t ticket, Result<Page> page);
  void finish_search(uint64_t ticket, Result<SearchPage> page);
  // The backend API's side of a store answer.
  void answer_api_post(ApiCallRef caller, const Message& entry, const Result<Appended>& result);
  void finish_api_read(ApiCallRef caller, const PageQuery& query, Result<Page> page);
  void counted_done(MemberRef who, AnswerSlot::Counted counted);

  // The room's outbox.
  void emit(RoomEvent event, MemberRef except);
  void fill_room_slot(uint64_t ticket, RoomEvent event, MemberRef except, uint64_t msg_id);
  void drain_room();
  // Each member's answers.
  void queue_answer(MemberRef who, AnswerSlot slot);
  AnswerSlot* fill_answer(MemberRef who, uint64_t ticket, SharedText text, bool activates = false);
  void drain_answers(MemberRef who);
  // A connection is gone: its reads not started are dropped, and those the
  // History is reading are cancelled (it may skip them).
  void drop_reads(MemberRef who);
  ReadFor reader_for(MemberRef who, std::shared_ptr<std::atomic<bool>>& cancelled) const;

  SharedText make_joined(const RoomMember& m, std::vector<Message>& history, bool& truncated,
                         bool keep_newest) const;
  SharedText make_history(const PendingRead& read, Page& page) const;
  std::size_t message_budget() const;
  uint64_t new_ticket() { return next_ticket_++; }

  const std::string name_;
  const uint32_t loop_;
  const RoomOptions& options_;
  RoomHost& host_;
  RoomMembers members_;
  RoomCache cache_;
  std::unordered_map<uint64_t, std::variant<PendingSend, PendingRead, PendingSearch>> work_;
  LazyDeque<RoomSlot> outbox_;  // no memory while empty, as in an idle room
  std::unordered_map<MemberRef, std::deque<AnswerSlot>, MemberRefHash> answers_;
  std::unordered_map<MemberRef, ParkedJoin, MemberRefHash> parked_joins_;
  struct PresenceBatch {
    std::vector<std::pair<std::string, std::string>> joined, left;  // user, name
    uint64_t more_joined = 0, more_left = 0;
    bool any_join = false, any_leave = false;  // of a connection: the seed's notices
    bool scheduled = false;
  } batch_;
  uint64_t next_ticket_ = 1;
  bool draining_room_ = false;
  // Multi-node: messages stored but not yet delivered, because one before
  // them has not reached this node yet. A local one (ticket != 0) still holds
  // its place in the outbox; a remote one is encoded when released.
  struct Held {
    Message message;
    uint64_t ticket = 0;
    RoomEvent event;
    MemberRef sender;
  };
  std::map<uint64_t, Held> held_;
  bool gap_reading_ = false;
  bool gap_scheduled_ = false;
  bool catch_up_again_ = false;  // a catch-up asked for while a read was in flight
  // Shared presence: joins waiting for their claim (by ticket), then for its
  // change to be applied (by seq); changes held until those before them are
  // applied; the last seq applied.
  struct Claim {
    MemberRef who;
    std::vector<JoinRequest> requests;
  };
  std::unordered_map<uint64_t, Claim> claims_;
  std::multimap<uint64_t, Claim> claimed_;
  std::map<uint64_t, PresenceChangeEvent> held_presence_;
  uint64_t presence_seq_ = 0;
  std::size_t presence_in_flight_ = 0;  // changes and roster reads
  bool roster_ready_ = false;
  bool roster_reading_ = false;
  bool presence_check_scheduled_ = false;
};

}  // namespace parley::chat
