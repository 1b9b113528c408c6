// History in Redis (--redis): every node of a deployment appends to and reads
// from the same per-room Stream (layout in chat/redis_codec.h).
//
// The stream keeps the room's log: messages and their changes (edit, delete,
// react, unreact) in one msg_id sequence, with the current state of each
// changed message beside it (a hash, chat/redis_codec.h). A reply stores the
// quote of the message it answers. Attachments are refused with
// Errc::Invalid (`unsupported` on the wire): their files live on the node
// that received the upload (docs/SCALING.md). Reads of every kind and
// search are served from the stream (search scans a bounded window per
// request, folding case here), each in one script with the states.
//
// One Lua script (chat/redis_log_scripts.h) stores an entry in one atomic
// step: it checks the dedup key, checks a change against its target with
// the rules of chat/message_log.h (or takes a reply's quote), takes the next
// msg_id (INCR), appends the entry (XADD, trimmed to --history-retain by
// MAXLEN and, with --history-retain-days, a few of the oldest entries past
// their age per append, releasing their states), rewrites the target's
// state, sets the dedup key and publishes the event on the room's channel.
// Redis runs scripts one at a time, so msg_ids are consecutive, two nodes
// cannot race past a rule, the channel carries the events in msg_id order;
// and nothing is published that is not stored. The answer
// reaches the room's home only after Redis has run the script: with
// `appendfsync always` that is after the AOF write was fsynced (see
// docs/SCALING.md for `everysec`).
//
// Commands go out on the connection of the loop that asks (the room's home
// loop): one connection per loop, no locks, pipelined by hiredis. A
// connection that is down answers at once with Errc::Unavailable, which the
// room turns into the `unavailable` error; the message may still have been
// stored when the connection broke after the script ran, which the client's
// resend with the same id then learns as a `duplicate` ack.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "chat/history.h"
#include "chat/redis_log_scripts.h"
#include "store/redis/forward.h"

namespace parley::chat {

class RedisHistory final : public History {
 public:
  struct Options {
    std::string node;                               // this node's id, carried by its events
    std::size_t retain_per_room = 0;                // 0 = all
    std::chrono::seconds retain_age{0};             // 0 = forever
    std::chrono::seconds dedup_ttl{7 * 24 * 3600};  // how long a resend is recognised
    ChangeRules rules{};
  };

  // One connection per event loop, each used only from its own loop.
  RedisHistory(std::vector<redis::Connection*> connections, const Options& options);

  // The scripts every connection must load (Connection::add_script).
  static const std::vector<const redis::Script*>& scripts();

  void append(const std::string& room, const Message& message, AppendDone done) override;
  void read(const std::string& room, const PageQuery& query, PageDone done) override;
  void search(const std::string& room, const SearchQuery& query, SearchDone done) override;
  std::vector<std::pair<std::string, uint64_t>> last_ids() const override { return {}; }
  Status health() const override;
  bool shared() const override { return true; }
  void last_id(const std::string& room, LastIdDone done) override;

 private:
  // The connection of the calling loop, or null off the loops.
  redis::Connection* here() const;
  // Steps of a read.
  static void read_page(redis::Connection& c, const redis_log::Call& call, PageDone done);
  static void read_around(redis::Connection& c, const redis_codec::RoomKeys& keys, uint64_t anchor,
                          std::size_t limit, PageDone done);

  std::vector<redis::Connection*> connections_;
  redis_log::AppendSettings settings_;
};

}  // namespace parley::chat
