// The Redis engine (--redis): what a node needs to share rooms, history and
// presence with the other nodes of a deployment (docs/SCALING.md).
//
// One command connection per event loop (the rooms whose home is that loop
// use it), one subscriber connection per node (on loop 0), all driven by the
// loops themselves through hiredis' asynchronous API. The engine owns them
// and the chat's RedisHistory, RedisBus and RedisPresence built on them;
// ChatHub sees only the History, Bus and Presence seams.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "chat/redis_bus.h"
#include "chat/redis_guests.h"
#include "chat/redis_history.h"
#include "chat/redis_presence.h"
#include "net/event_loop.h"
#include "store/redis/connection.h"

namespace parley::app {

struct Config;

class RedisEngine {
 public:
  // Checks the URL and the node id; connects later (start), in the loops.
  static Result<std::unique_ptr<RedisEngine>> create(const Config& config,
                                                     std::vector<net::EventLoop*> loops);
  ~RedisEngine();

  // Posts each connection's start to its loop (they connect once the loops run).
  void start();

  chat::History& history() { return *history_; }
  chat::Bus& bus() { return *bus_; }
  chat::Presence& presence() { return *presence_; }
  chat::RedisGuests& guests() { return *guests_; }
  const std::string& node_id() const { return node_; }

  // The resume-token secret shared by every node: read from Redis, or
  // created there by the first node (SET NX). Blocking, at start-up only.
  static Result<std::string> shared_secret(const redis::Endpoint& endpoint);

 private:
  RedisEngine() = default;

  std::string node_;
  std::vector<std::unique_ptr<redis::Connection>> commands_;  // one per loop
  std::unique_ptr<chat::RedisHistory> history_;
  std::unique_ptr<chat::RedisBus> bus_;
  std::unique_ptr<chat::RedisPresence> presence_;  // before the connections it uses go
  std::unique_ptr<chat::RedisGuests> guests_;
};

// hostname-pid: unique among live processes of a deployment.
std::string default_node_id();
// Printable ASCII without quotes, backslashes or spaces, 1-64 bytes.
Status check_node_id(std::string_view id);

}  // namespace parley::app
