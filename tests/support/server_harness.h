// One event loop's worth of a server, without sockets or threads: the
// configuration, the chat hub with its rooms in memory (as with --history
// off), the server-wide services and one LoopContext, on an EventLoop that is
// driven by hand (run_pending()). Connections are opened over MemoryPeers.
// Used by the app unit tests and the whole-server fuzz target.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/api.h"
#include "app/config.h"
#include "app/connection.h"
#include "app/event_loop_port.h"
#include "app/server_context.h"
#include "chat/bus.h"
#include "chat/chat_hub.h"
#include "chat/identity.h"
#include "chat/json_session.h"
#include "chat/memory_history.h"
#include "http/static_files.h"
#include "net/event_loop.h"
#include "support/memory_stream.h"

namespace parley::testing {

class ServerHarness {
 public:
  // `web`: serve the embedded web client (otherwise no static files).
  explicit ServerHarness(app::Config config = {}, bool web = true);
  ~ServerHarness();
  ServerHarness(const ServerHarness&) = delete;
  ServerHarness& operator=(const ServerHarness&) = delete;

  // A connection over a new MemoryPeer, started in its HTTP phase (or
  // already failed, if the peer fails its first step).
  std::shared_ptr<MemoryPeer> connect(MemoryPeer::Options options = {});

  // Runs what the loop has posted or deferred (chat events, destructions).
  void settle() { loop_.run_pending(); }
  // The loop's periodic sweep at `now` (deadlines).
  void sweep(net::Clock::time_point now);
  // Aborts every connection and frees it.
  void abort_all();

  app::LoopContext& ctx() { return *ctx_; }
  net::EventLoop& loop() { return loop_; }
  const app::Config& config() const { return config_; }
  std::size_t connections() const { return ctx_->connections.size(); }

 private:
  net::EventLoop loop_;
  app::EventLoopPort port_{loop_};
  app::Config config_;
  http::StaticFiles static_files_;
  chat::Identity identity_;
  chat::JsonSessionOptions json_options_;
  std::unique_ptr<chat::MemoryHistory> history_;
  chat::LocalBus bus_;
  std::unique_ptr<chat::ChatHub> hub_;
  std::unique_ptr<app::SharedServices> services_;
  std::unique_ptr<app::ApiService> api_;  // with config.api_keys
  std::unique_ptr<app::LoopContext> ctx_;
};

}  // namespace parley::testing
