#include "app/server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "app/api.h"
#include "app/connection.h"
#include "app/event_loop_port.h"
#include "chat/memory_history.h"
#include "chat/sqlite_history.h"
#include "net/socket.h"
#include "net/tcp_connection.h"
#include "store/history_store.h"
#include "web_assets.h"
#include "ws/close_code.h"

namespace parley::app {
namespace {

// How often deadlines (handshake, ping, idle, closing) are checked. Coarse on
// purpose: one pass over the session list instead of a timer per connection.
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
constexpr auto kTrimInterval = std::chrono::seconds(5);

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void install_signal_policy() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set = termination_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class Server::SignalWatcher final : public net::IoHandler {
 public:
  SignalWatcher(net::EventLoop& loop, std::function<void()> on_signal)
      : loop_(loop), on_signal_(std::move(on_signal)) {
    sigset_t set = termination_signals();
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    Status watching =
        fd_ < 0 ? Status(Error::from_errno("signalfd", errno)) : loop_.add(fd_, EPOLLIN, this);
    if (!watching) {
      spdlog::warn("SIGINT/SIGTERM will not stop the server gracefully: {}",
                   watching.error().message);
    }
  }
  ~SignalWatcher() {
    if (fd_ >= 0) {
      loop_.remove(fd_);
      ::close(fd_);
    }
  }
  void on_io(uint32_t) override {
    signalfd_siginfo info;
    while (read(fd_, &info, sizeof info) == sizeof info) {
      spdlog::info("received {}, shutting down", strsignal(static_cast<int>(info.ssi_signo)));
      on_signal_();
    }
  }

 private:
  net::EventLoop& loop_;
  std::function<void()> on_signal_;
  int fd_ = -1;
};

struct Server::Worker {
  net::EventLoop loop;
  EventLoopPort port{loop};
  std::unique_ptr<LoopContext> ctx;
  std::thread thread;
  // Set by this worker's loop once shutting down left it no connection; read
  // by loop 0 when the shutdown timeout passes.
  std::atomic<bool> drained{false};
};

Server::Server(Config config)
    : config_(std::move(config)), static_files_({web::kFiles, web::kFileCount}) {
  std::size_t threads = config_.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());

  json_options_.max_message_bytes = config_.max_message_size;
  json_options_.max_text_bytes = config_.max_text_bytes;
  json_options_.rate_per_sec = config_.rate_per_sec;
  json_options_.rate_burst = config_.rate_burst;
  json_options_.server = std::string("parley/") + PARLEY_VERSION;
  json_options_.jwt = config_.jwt.get();
  json_options_.token_warning = std::chrono::seconds(config_.jwt_refresh_warning);
}

Server::~Server() {
  // Sessions reference the hub and the loops: they go first.
  for (auto& w : workers_) w->ctx.reset();
  // The store commits what is queued and runs its callbacks, which post
  // through the hub to the (stopped) loops: so before the hub goes.
  store_.reset();
  hub_.reset();
  history_.reset();
}

Status Server::start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) {
    return Error(Errc::Io,
                 "cannot create data directory '" + config_.data_dir + "': " + ec.message(),
                 ec.value());
  }
  std::string error;
  auto secret =
      chat::Identity::load_or_create_secret((fs::path(config_.data_dir) / "secret.key"), error);
  if (!secret) return Error(Errc::Io, error);
  identity_ = std::make_unique<chat::Identity>(
      std::move(*secret), std::chrono::seconds(static_cast<int64_t>(config_.resume_ttl)));
  if (Status opened = open_history(); !opened) return opened;
  create_hub();

  Result<int> listening = net::listen_tcp(config_.host, config_.port);
  if (!listening) return std::move(listening).error();
  port_ = net::local_port(*listening);
  listener_ = std::make_unique<net::Listener>(workers_[0]->loop, *listening,
                                              [this](int c) { on_accept(c); });
  return listener_->start();
}

Status Server::open_history() {
  if (config_.history != "sqlite") return {};
  store::HistoryStore::Options o;
  o.dir = config_.data_dir;
  o.retain_per_room = config_.history_retain;
  o.retain_age = std::chrono::seconds(static_cast<int64_t>(config_.history_retain_days * 86400));
  o.sync_full = config_.sync == "full";
  auto opened = store::HistoryStore::open(o);
  if (auto* err = std::get_if<std::string>(&opened)) return Error(Errc::Unavailable, *err);
  store_ = std::move(std::get<std::unique_ptr<store::HistoryStore>>(opened));
  return {};
}

void Server::create_hub() {
  std::vector<chat::LoopPort*> ports;
  for (auto& w : workers_) ports.push_back(&w->port);
  chat_options_.room.join_history = config_.join_history;
  chat_options_.room.cache.max_messages = config_.cache_per_room;
  chat_options_.room.cache.max_bytes = config_.cache_room_bytes;
  chat_options_.cache_bytes = config_.cache_bytes;
  chat_options_.max_rooms = config_.max_rooms;
  chat_options_.room.presence_batch_above = config_.presence_batch_above;
  if (store_) {
    chat_options_.room.cache.retain_per_room = config_.history_retain;
    history_ = std::make_unique<chat::SqliteHistory>(*store_);
  } else {
    // Memory only: the history is the cache's size, and the cache itself
    // would only hold a second copy of the same messages.
    history_ = std::make_unique<chat::MemoryHistory>(
        chat::MemoryHistory::Options{config_.cache_per_room, config_.cache_bytes});
    chat_options_.room.cache.max_messages = 0;
  }
  hub_ = std::make_unique<chat::ChatHub>(std::move(ports), *history_, bus_, chat_options_);

  services_ =
      std::unique_ptr<SharedServices>(new SharedServices{config_,
                                                         static_files_,
                                                         *hub_,
                                                         *identity_,
                                                         json_options_,
                                                         {1},
                                                         {1},
                                                         identity_->new_user_id().substr(1, 8),
                                                         {}});
  // Backend API (docs/API.md): on with a key file.
  if (config_.api_keys) {
    api_ = std::make_unique<ApiService>(config_.api_keys, config_.api_rate, config_.api_burst);
    services_->api = api_.get();
  }
  for (uint32_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->ctx = std::make_unique<LoopContext>(*services_, workers_[i]->loop, i);
    services_->loops.push_back(workers_[i]->ctx.get());
  }
}

void Server::on_accept(int fd) {
  net::set_tcp_nodelay(fd);
  // Round-robin: connections are long-lived and alike, so even counts give
  // even load without the SO_REUSEPORT pitfall of two servers sharing a port.
  Worker& w = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  auto create = [&w, fd] {
    if (w.ctx->shutting_down) {
      ::close(fd);
      return;
    }
    w.ctx->stats.connections_accepted.add();
    auto stream = std::make_unique<net::TcpConnection>(w.loop, fd);
    Connection& c = w.ctx->connections.add(std::make_unique<Connection>(*w.ctx, std::move(stream)));
    c.set_peer_address(net::peer_address(fd));  // backend API: failures limited per address
    static_cast<void>(c.start());  // a connection that cannot start logs and retires itself
  };
  if (&w == workers_[0].get()) {
    create();
  } else {
    w.loop.post(create);
  }
}

void Server::sweep(Worker& w) {
  auto now = w.loop.now();
  if (&w == workers_[0].get() && now - last_trim_ >= kTrimInterval) {
    // Bursts (a thousand join notices to a thousand clients) leave freed
    // memory scattered through glibc's heaps, which keeps it in RSS. Give the
    // free pages back now and then; it costs a walk of the free lists.
    last_trim_ = now;
    malloc_trim(0);
  }
  w.ctx->connections.for_each([now](Connection& c) { c.tick(now); });
  if (w.ctx->shutting_down && w.ctx->connections.empty() && !w.drained.load()) {
    w.drained.store(true);
    if (++loops_drained_ == workers_.size()) stop_all();
  }
  w.loop.run_after(kSweepInterval, [this, &w] { sweep(w); });
}

void Server::begin_shutdown() {
  if (shutting_down_.exchange(true)) return;
  if (listener_) listener_->close();
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop.post([worker] {
      worker->ctx->shutting_down = true;
      worker->ctx->connections.for_each(
          [](Connection& c) { c.close(ws::close_code::GoingAway, "server shutting down"); });
    });
  }
  workers_[0]->loop.run_after(seconds(config_.shutdown_timeout), [this] {
    std::size_t open = 0;
    for (auto& w : workers_) open += w->drained.load() ? 0 : 1;
    spdlog::warn("shutdown timeout: {} loop(s) still had clients, closing them", open);
    stop_all();
  });
}

void Server::stop_all() {
  for (auto& w : workers_) w->loop.stop();
}

int Server::run() {
  signals_ = std::make_unique<SignalWatcher>(workers_[0]->loop, [this] { begin_shutdown(); });
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop.run_after(kSweepInterval, [this, worker] { sweep(*worker); });
  }
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    Worker* worker = workers_[i].get();
    worker->thread = std::thread([worker] { worker->loop.run(); });
  }
  workers_[0]->loop.run();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Every loop has stopped: whoever is left (the shutdown timeout passed) is
  // closed now, on this thread, and freed.
  uint64_t accepted = 0, upgrades = 0, messages = 0, dropped = 0;
  for (auto& w : workers_) {
    w->loop.adopt_thread();
    w->ctx->connections.for_each([](Connection& c) { c.abort(); });
    w->loop.run_pending();
    accepted += w->ctx->stats.connections_accepted.get();
    upgrades += w->ctx->stats.websocket_upgrades.get();
    messages += w->ctx->stats.messages_received.get();
    dropped += w->ctx->stats.slow_consumers_dropped.get();
  }
  spdlog::info(
      "stopped: {} connections, {} WebSocket sessions, {} messages, {} slow consumers dropped",
      accepted, upgrades, messages, dropped);
  return 0;
}

}  // namespace parley::app
