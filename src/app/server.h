// The whole server on one event loop: listener, sessions, the periodic
// timeout sweep and graceful shutdown on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "app/server_context.h"
#include "net/event_loop.h"
#include "net/listener.h"

namespace parley::app {

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Binds the listening socket. Returns an error message on failure.
  std::optional<std::string> listen();
  uint16_t port() const { return port_; }

  // Runs until a termination signal has been handled; returns the exit code.
  int run();

 private:
  class SignalWatcher;

  void on_accept(int fd);
  void sweep();
  void begin_shutdown();

  Config config_;
  net::EventLoop loop_;
  std::unique_ptr<ServerContext> ctx_;
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<SignalWatcher> signals_;
  uint16_t port_ = 0;
};

// Blocks SIGINT/SIGTERM (to be read through signalfd) and ignores SIGPIPE
// (a write to a vanished peer is an error code, not a death). Call in main()
// before any thread starts.
void install_signal_policy();

}  // namespace parley::app
