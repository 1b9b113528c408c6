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
#include "net/tls_context.h"

namespace parley::store {
class HistoryStore;
class FileStore;
}  // namespace parley::store

namespace parley::app {

struct ApiService;
class RedisEngine;

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Opens the data directory and binds the listening socket. On failure the
  // caller prints the error and exits non-zero.
  Status start();
  uint16_t port() const { return port_; }
  // The --metrics-address listener's port (0 without one).
  uint16_t metrics_port() const { return metrics_port_; }
  // With TLS: the plain HTTP port beside it (--plain-port), or 0 for none.
  uint16_t plain_port() const { return plain_port_; }

  // Runs every loop until a termination signal has been handled and the
  // clients are closed (or the shutdown timeout passed). Returns the exit code.
  int run();

 private:
  class SignalWatcher;
  struct Worker;

  Status open_history();
  std::vector<net::EventLoop*> loops() const;
  Status open_uploads();
  void rebuild_file_references();
  void create_hub();
  // Which listener a connection came through: the public port (plain, or
  // TLS with --tls-cert), --plain-port beside TLS, or --metrics-address.
  enum class Door { Public, Plain, Metrics };
  void on_accept(int fd, Door door);
  void open_connection(Worker& w, int fd, const net::IpAddress& peer, Door door,
                       std::shared_ptr<const net::TlsContext> tls);
  Status start_metrics_listener();
  void warn_about_descriptors() const;
  void on_signal(int signo);
  // Native TLS: the context at start, and a new one on SIGHUP (loop 0 only).
  Status load_tls();
  void reload_tls();
  void sweep(Worker& w);
  void begin_shutdown();
  void stop_all();

  Config config_;
  std::unique_ptr<store::HistoryStore> store_;
  std::unique_ptr<chat::History> history_;
  chat::LocalBus bus_;
  std::unique_ptr<RedisEngine> redis_;  // --redis: history and bus shared with other nodes
  chat::ChatOptions chat_options_;
  std::unique_ptr<chat::Identity> identity_;
  std::unique_ptr<store::FileStore> files_;  // uploads
  std::unique_ptr<class Uploads> uploads_;
  chat::JsonSessionOptions json_options_;
  http::StaticFiles static_files_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<chat::ChatHub> hub_;
  std::unique_ptr<SharedServices> services_;
  std::unique_ptr<ApiService> api_;  // backend API, with --api-key-file
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<AddressTable> addresses_;          // edge: caps and rates per address
  std::unique_ptr<net::Listener> metrics_listener_;  // edge: --metrics-address
  std::unique_ptr<SignalWatcher> signals_;
  uint16_t port_ = 0;
  uint16_t metrics_port_ = 0;
  // Native TLS: the context new connections get (touched on loop 0 only:
  // accepts and SIGHUP both happen there), and the plain listener beside it.
  std::shared_ptr<const net::TlsContext> tls_;
  std::unique_ptr<net::Listener> plain_listener_;
  uint16_t plain_port_ = 0;
  net::Clock::time_point last_trim_{};
  uint32_t next_worker_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::size_t> loops_drained_{0};
};

// Blocks SIGINT/SIGTERM/SIGHUP (read through signalfd) and ignores SIGPIPE (a write
// to a vanished peer is an error code, not a death). Call in main() before
// any thread starts.
void install_signal_policy();

}  // namespace parley::app
