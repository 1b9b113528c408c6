// The seam between the chat core and other Parley processes serving the same
// rooms (scale-out). A room's home publishes what it stored so that the other
// nodes' members get it, and listens to the rooms it has members in.
//
// LocalBus (one process, the default) does nothing: every member of a room is
// reached through the room's home on this node. A Redis engine implements the
// same interface over pub/sub; it then also hands the hub the messages other
// nodes stored (ChatHub gains the entry point with it), which the room's home
// delivers in msg_id order, filling any gap from the History.
#pragma once

#include <string>

#include "chat/message.h"

namespace parley::chat {

class Bus {
 public:
  virtual ~Bus() = default;

  // Thread-safe. This node opened `room` (someone here joined it) / closed it
  // (the last one here left): start / stop receiving its events.
  virtual void subscribe(const std::string& room) = 0;
  virtual void unsubscribe(const std::string& room) = 0;
  // Thread-safe. A message this node stored (its id assigned by the History),
  // for the members on other nodes.
  virtual void publish(const std::string& room, const Message& message) = 0;
};

class LocalBus final : public Bus {
 public:
  void subscribe(const std::string&) override {}
  void unsubscribe(const std::string&) override {}
  void publish(const std::string&, const Message&) override {}
};

}  // namespace parley::chat
