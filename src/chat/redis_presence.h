// Presence in Redis (--redis): every room's roster shared by the nodes of a
// deployment (chat/presence.h; keys in chat/redis_codec.h).
//
// Each change is one Lua script on the room's keys (one hash tag): it sets
// the count of (this node's incarnation, user), claims or frees the user's
// name, takes the room's next presence number and publishes the change on
// the room's channel, so every node applies the same changes in the same
// order. Names are unique per room across nodes: a name is taken in the
// `pt` hash (name -> user) by the script that gives it, with the suffix rule
// of one node ("-2", "-3"..., the next suffix remembered per name).
//
// A node is alive while its heartbeat key lives: `parley:node:<incarnation>`
// is set every `beat` with a time to live of `ttl`, and the incarnation is in
// `parley:nodes`; the rooms it has members in are in
// `parley:node:<incarnation>:rooms`. Every node, once per beat, looks for
// incarnations without a heartbeat and evicts their members room by room
// (each eviction one script, publishing `left`), then forgets them. A dead
// node's members are thus gone within ttl + beat + a script (6 s with the
// defaults; docs/SCALING.md promises 10). An incarnation is the node id plus
// a random tag of this process: a node restarted under the same id is a new
// incarnation, and its previous one is evicted like any dead node.
//
// A node cut from Redis longer than `ttl` may have been evicted while its
// connections lived on: when its heartbeat finds its key gone, or Redis
// comes back after a failed beat, it asks every room open here to set its
// members again (Presence::listen's resync, PresenceOp::Sync).
//
// Commands go out on the connection of the calling loop (the room's home);
// the heartbeat and the reaper run on the first loop's.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/presence.h"
#include "store/redis/forward.h"

namespace parley::chat {

class RedisPresence final : public Presence {
 public:
  struct Options {
    std::string node;  // the node id; the incarnation adds a random tag
    std::chrono::milliseconds ttl{5000};
    std::chrono::milliseconds beat{1000};
  };

  // One connection per event loop, each used only from its own loop; the
  // first one's loop runs the heartbeat.
  RedisPresence(std::vector<redis::Connection*> connections, Options options);
  ~RedisPresence() override;

  static const std::vector<const redis::Script*>& scripts();

  // On the first connection's loop: starts the heartbeat and the reaper.
  void start();
  const std::string& incarnation() const { return incarnation_; }

  bool shared() const override { return true; }
  void change(const std::string& room, const PresenceOp& op, ChangeDone done) override;
  void snapshot(const std::string& room, SnapshotDone done) override;
  void closed(const std::string& room) override;
  void listen(std::function<void()> resync) override { resync_ = std::move(resync); }

 private:
  redis::Connection* here() const;
  // The heartbeat and the reaper, on the first connection's loop.
  void beat();
  void on_beat(bool ok, bool key_was_there);
  void reap();
  void reap_incarnation(const std::string& incarnation);
  void evict_room(const std::string& incarnation, const std::string& room);

  std::vector<redis::Connection*> connections_;
  Options options_;
  std::string incarnation_, heartbeat_key_, rooms_key_, ttl_ms_;
  std::atomic<bool> registered_{false};  // a beat succeeded once (any loop reads it)
  bool beat_failed_ = false;             // the last beat did not reach Redis
  std::function<void()> resync_;
  std::shared_ptr<RedisPresence*> self_;  // timers hold this, not the object
};

}  // namespace parley::chat
