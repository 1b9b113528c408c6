// State shared by all sessions of one event loop: configuration, the loop,
// the session list, the embedded files and the chat rooms.
#pragma once

#include <cstdint>

#include "app/config.h"
#include "app/session.h"
#include "chat/plain_text_chat.h"
#include "chat/room_registry.h"
#include "http/static_files.h"
#include "net/event_loop.h"

namespace parley::app {

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t websocket_upgrades = 0;
  uint64_t messages_received = 0;
  uint64_t slow_consumers_dropped = 0;
};

struct ServerContext {
  ServerContext(const Config& c, net::EventLoop& l, http::StaticFiles files)
      : config(c), loop(l), static_files(std::move(files)), plain_chat(rooms) {}

  const Config& config;
  net::EventLoop& loop;
  SessionList sessions;
  http::StaticFiles static_files;
  chat::RoomRegistry rooms;
  chat::PlainTextChat plain_chat;
  ServerStats stats;
  bool shutting_down = false;
};

// Seconds from configuration as a steady-clock duration.
inline net::Clock::duration seconds(double s) {
  return std::chrono::duration_cast<net::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace parley::app
