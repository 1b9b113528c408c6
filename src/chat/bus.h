// The seam between the chat core and other Parley processes serving the same
// rooms (scale-out). A room's home publishes what it stored so that the other
// nodes' members get it, and listens to the rooms it has members in.
//
// LocalBus (one process, the default) does nothing: every member of a room is
// reached through the room's home on this node. RedisBus (--redis) listens
// to the rooms open on this node over Redis pub/sub and hands the hub what
// the other nodes stored (BusListener), which the room's home delivers in
// msg_id order, filling any gap from the History (RoomHome::on_remote_message).
#pragma once

#include <string>

#include "chat/message.h"
#include "chat/presence.h"

namespace parley::chat {

// What the bus hands the hub. Any thread.
class BusListener {
 public:
  // A message another node stored in `room` (its id and time set).
  virtual void on_bus_message(const std::string& room, Message message) = 0;
  // This node receives `room`'s events (again): whatever was published while
  // it was not listening must be read from the History.
  virtual void on_bus_subscribed(const std::string& room) = 0;
  // A change of `room`'s shared roster (chat/presence.h), this node's own
  // included: the home applies each once, in seq order.
  virtual void on_bus_presence(const std::string& room, PresenceChangeEvent change) {
    (void)room;
    (void)change;
  }

 protected:
  ~BusListener() = default;
};

class Bus {
 public:
  virtual ~Bus() = default;

  // Called once by the hub, before anything else.
  virtual void listen(BusListener& listener) { (void)listener; }
  // Thread-safe. This node opened `room` (someone here joined it) / closed it
  // (the last one here left): start / stop receiving its events.
  virtual void subscribe(const std::string& room) = 0;
  virtual void unsubscribe(const std::string& room) = 0;
  // Thread-safe. A message this node stored (its id assigned by the History),
  // for the members on other nodes. (RedisHistory publishes in the same step
  // as it stores, so RedisBus has nothing left to do here.)
  virtual void publish(const std::string& room, const Message& message) = 0;
};

class LocalBus final : public Bus {
 public:
  void subscribe(const std::string&) override {}
  void unsubscribe(const std::string&) override {}
  void publish(const std::string&, const Message&) override {}
};

}  // namespace parley::chat
