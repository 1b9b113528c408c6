// The whole server: one event loop per thread (--threads, default one per
// core), an acceptor on the first loop handing new connections round-robin to
// all loops, the chat hub spanning them, the history store, and graceful
// shutdown on SIGINT/SIGTERM.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "app/server_context.h"
#include "base/result.h"
#include "chat/chat_hub.h"
#include "chat/identity.h"
#include "http/static_files.h"
#include "net/event_loop.h"
#include "net/listener.h"

namespace parley::store {
class HistoryStore;
}

namespace parley::app {

struct ApiService;

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Opens the data directory and binds the listening socket. On failure the
  // caller prints the error and exits non-zero.
  Status start();
  uint16_t port() const { return port_; }

  // Runs every loop until a termination signal has been handled and the
  // clients are closed (or the shutdown timeout passed). Returns the exit code.
  int run();

 private:
  class SignalWatcher;
  struct Worker;

  Status open_history();
  void create_hub();
  void on_accept(int fd);
  void sweep(Worker& w);
  void begin_shutdown();
  void stop_all();

  Config config_;
  std::unique_ptr<store::HistoryStore> store_;
  std::unique_ptr<chat::History> history_;
  chat::LocalBus bus_;
  chat::ChatOptions chat_options_;
  std::unique_ptr<chat::Identity> identity_;
  chat::JsonSessionOptions json_options_;
  http::StaticFiles static_files_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<chat::ChatHub> hub_;
  std::unique_ptr<SharedServices> services_;
  std::unique_ptr<ApiService> api_;  // backend API, with --api-key-file
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<SignalWatcher> signals_;
  uint16_t port_ = 0;
  net::Clock::time_point last_trim_{};
  uint32_t next_worker_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::size_t> loops_drained_{0};
};

// Blocks SIGINT/SIGTERM (read through signalfd) and ignores SIGPIPE (a write
// to a vanished peer is an error code, not a death). Call in main() before
// any thread starts.
void install_signal_policy();

}  // namespace parley::app
