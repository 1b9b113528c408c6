#include "app/server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "app/api.h"
#include "app/connection.h"
#include "app/edge_policy.h"
#include "app/event_loop_port.h"
#include "app/redis_engine.h"
#include "app/uploads.h"
#include "chat/memory_history.h"
#include "chat/sqlite_history.h"
#include "net/socket.h"
#include "net/tcp_connection.h"
#include "net/tls_stream.h"
#include "store/file_store.h"
#include "store/history_store.h"
#include "web_assets.h"
#include "ws/close_code.h"

namespace parley::app {
namespace {

// How often deadlines (handshake, ping, idle, closing) are checked. Coarse on
// purpose: one pass over the session list instead of a timer per connection.
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
constexpr auto kTrimInterval = std::chrono::seconds(5);
// Connections answering a refusal at accept, per loop: past this, a refused
// connection is closed unanswered (docs/SECURITY.md, "Connection caps").
constexpr std::size_t kMaxRefusing = 256;

// SIGINT and SIGTERM stop the server; SIGHUP reloads the TLS certificate.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void install_signal_policy() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class Server::SignalWatcher final : public net::IoHandler {
 public:
  SignalWatcher(net::EventLoop& loop, std::function<void(int)> on_signal)
      : loop_(loop), on_signal_(std::move(on_signal)) {
    sigset_t set = handled_signals();
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    Status watching =
        fd_ < 0 ? Status(Error::from_errno("signalfd", errno)) : loop_.add(fd_, EPOLLIN, this);
    if (!watching) {
      spdlog::warn("SIGINT/SIGTERM/SIGHUP will not be handled: {}", watching.error().message);
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
    while (read(fd_, &info, sizeof info) == sizeof info)
      on_signal_(static_cast<int>(info.ssi_signo));
  }

 private:
  net::EventLoop& loop_;
  std::function<void(int)> on_signal_;
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

  // A parley.v1 connection reads at most its largest valid request.
  json_options_.max_message_bytes = config_.json_message_bytes();
  json_options_.max_text_bytes = config_.max_text_bytes;
  json_options_.rate_per_sec = config_.rate_per_sec;
  json_options_.rate_burst = config_.rate_burst;
  json_options_.byte_rate = static_cast<double>(config_.byte_rate);
  json_options_.byte_burst = static_cast<double>(config_.byte_burst);
  json_options_.server = std::string("parley/") + PARLEY_VERSION;
  json_options_.max_upload_bytes = config_.max_upload_bytes;
  json_options_.jwt = config_.jwt.get();
  json_options_.token_warning = std::chrono::seconds(config_.jwt_refresh_warning);
}

Server::~Server() {
  // Sessions reference the hub and the loops: they go first.
  for (auto& w : workers_) w->ctx.reset();
  redis_.reset();
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
  std::optional<std::string> secret;
  if (!config_.redis.empty() && config_.secret_file.empty()) {
    // Every node must accept every node's resume tokens (docs/SCALING.md).
    Result<std::string> shared = RedisEngine::shared_secret(*redis::parse_url(config_.redis));
    if (!shared) return shared.error();
    secret = std::move(shared).value();
  } else {
    std::string file = config_.secret_file.empty()
                           ? (fs::path(config_.data_dir) / "secret.key").string()
                           : config_.secret_file;
    secret = chat::Identity::load_or_create_secret(file, error);
  }
  if (!secret) return Error(Errc::Io, error);
  identity_ = std::make_unique<chat::Identity>(
      std::move(*secret), std::chrono::seconds(static_cast<int64_t>(config_.resume_ttl)));
  // Uploads first: the history tells the file store of the messages its
  // retention removes, and hands over which messages show a file.
  if (Status opened = open_uploads(); !opened) return opened;
  if (Status opened = open_history(); !opened) return opened;
  rebuild_file_references();
  create_hub();

  if (Status tls = load_tls(); !tls) return tls;

  Result<int> listening = net::listen_tcp(config_.host, config_.port);
  if (!listening) return std::move(listening).error();
  port_ = net::local_port(*listening);
  bool tls = config_.tls();
  listener_ = std::make_unique<net::Listener>(workers_[0]->loop, *listening,
                                              [this](int c) { on_accept(c, Door::Public); });
  if (Status started = listener_->start(); !started) return started;
  warn_about_descriptors();
  if (Status started = start_metrics_listener(); !started) return started;
  // Native TLS: plain HTTP beside it only when asked for (--plain-port).
  if (!tls || config_.plain_port < 0) return {};
  Result<int> plain = net::listen_tcp(config_.host, static_cast<uint16_t>(config_.plain_port));
  if (!plain) return std::move(plain).error();
  plain_port_ = net::local_port(*plain);
  plain_listener_ = std::make_unique<net::Listener>(workers_[0]->loop, *plain,
                                                    [this](int c) { on_accept(c, Door::Plain); });
  return plain_listener_->start();
}

// Edge: --metrics-address, a listener on loop 0 that serves /metrics and
// /healthz only, outside every connection cap.
Status Server::start_metrics_listener() {
  if (config_.metrics_address.empty()) return {};
  Result<int> listening = net::listen_tcp(config_.metrics_host, config_.metrics_port);
  if (!listening) return std::move(listening).error();
  metrics_port_ = net::local_port(*listening);
  metrics_listener_ = std::make_unique<net::Listener>(
      workers_[0]->loop, *listening, [this](int c) { on_accept(c, Door::Metrics); });
  return metrics_listener_->start();
}

// Edge: --max-connections is only as good as the descriptors to hold them.
void Server::warn_about_descriptors() const {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  std::size_t wanted = config_.max_connections + 64;  // listeners, store, epoll, eventfds
  if (config_.max_connections == 0) {
    spdlog::info("no --max-connections: the {} descriptors allowed (ulimit -n) are the cap",
                 static_cast<unsigned long long>(limit.rlim_cur));
  } else if (wanted > limit.rlim_cur) {
    spdlog::warn(
        "{} descriptors allowed (ulimit -n) for --max-connections {}: past them new connections "
        "are reset instead of answered 503; raise LimitNOFILE or lower --max-connections",
        static_cast<unsigned long long>(limit.rlim_cur), config_.max_connections);
  }
}

std::vector<net::EventLoop*> Server::loops() const {
  std::vector<net::EventLoop*> all;
  for (const auto& w : workers_) all.push_back(&w->loop);
  return all;
}

void Server::on_signal(int signo) {
  if (signo == SIGHUP) {
    reload_tls();
    return;
  }
  spdlog::info("received {}, shutting down", strsignal(signo));
  begin_shutdown();
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
  if (redis_) {
    chat_options_.room.cache.retain_per_room = config_.history_retain;
    chat_options_.presence = &redis_->presence();  // redis: presence across nodes
  } else if (store_) {
    chat_options_.room.cache.retain_per_room = config_.history_retain;
    history_ = std::make_unique<chat::SqliteHistory>(*store_);
  } else {
    // Memory only: the history is the cache's size, and the cache itself
    // would only hold a second copy of the same messages.
    history_ = std::make_unique<chat::MemoryHistory>(chat::MemoryHistory::Options{
        config_.cache_per_room, config_.cache_bytes, {}, uploads_.get()});
    chat_options_.room.cache.max_messages = 0;
  }
  if (redis_) {
    hub_ = std::make_unique<chat::ChatHub>(std::move(ports), redis_->history(), redis_->bus(),
                                           chat_options_);
    redis_->start();
  } else {
    hub_ = std::make_unique<chat::ChatHub>(std::move(ports), *history_, bus_, chat_options_);
  }

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
  if (redis_) services_->guests = &redis_->guests();  // redis: guest-N across nodes
  // Backend API (docs/API.md): on with a key file.
  if (config_.api_keys) {
    api_ = std::make_unique<ApiService>(config_.api_keys, config_.api_rate, config_.api_burst);
    services_->api = api_.get();
  }
  // Edge: connection caps and rates per address, shared by the loops.
  addresses_ = std::make_unique<AddressTable>(AddressTable::Limits{
      config_.max_connections, config_.max_connections_per_ip, config_.handshake_rate_per_ip,
      config_.handshake_burst_per_ip, config_.rate_per_ip, config_.rate_burst_per_ip,
      static_cast<double>(config_.byte_rate_per_ip),
      static_cast<double>(config_.byte_burst_per_ip)});
  services_->addresses = addresses_.get();
  services_->uploads = uploads_.get();
  services_->history = history_.get();
  services_->store = store_.get();
  for (uint32_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->ctx = std::make_unique<LoopContext>(*services_, workers_[i]->loop, i);
    services_->loops.push_back(workers_[i]->ctx.get());
  }
}

void Server::on_accept(int fd, Door door) {
  net::set_tcp_nodelay(fd);
  Result<net::IpAddress> peer = net::peer_address(fd);
  if (!peer) {  // gone already (ENOTCONN), or not IP
    spdlog::debug("dropping a new connection: {}", peer.error().message);
    ::close(fd);
    return;
  }
  if (door == Door::Metrics) {
    open_connection(*workers_[0], fd, *peer, door, nullptr);
    return;
  }
  // Round-robin: connections are long-lived and alike, so even counts give
  // even load without the SO_REUSEPORT pitfall of two servers sharing a port.
  Worker& w = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  // The TLS context of the moment: a SIGHUP after this accept does not change it.
  std::shared_ptr<const net::TlsContext> context = door == Door::Public ? tls_ : nullptr;
  if (&w == workers_[0].get()) {
    open_connection(w, fd, *peer, door, std::move(context));
  } else {
    w.loop.post([this, &w, fd, address = *peer, door, context = std::move(context)] {
      open_connection(w, fd, address, door, context);
    });
  }
}

// On the connection's loop: admission (the caps, docs/SECURITY.md
// "Connection caps"), then the connection, started or refused.
void Server::open_connection(Worker& w, int fd, const net::IpAddress& peer, Door door,
                             std::shared_ptr<const net::TlsContext> tls) {
  if (w.ctx->shutting_down) {
    ::close(fd);
    return;
  }
  w.ctx->stats.connections_accepted.add();
  Admission admitted = admit(*w.ctx, peer, door == Door::Metrics);
  bool refused = !admitted.refusal.empty();
  if (refused && w.ctx->refusing >= kMaxRefusing) {
    ::close(fd);
    return;
  }
  std::unique_ptr<net::Stream> stream = std::make_unique<net::TcpConnection>(w.loop, fd);
  if (tls) {  // native TLS: a refusal, too, leaves after the handshake, encrypted
    stream = std::make_unique<net::TlsStream>(w.loop, std::move(tls), std::move(stream),
                                              w.ctx->tls_stats);
  }
  Connection& c = w.ctx->connections.add(
      std::make_unique<Connection>(*w.ctx, std::move(stream), std::move(admitted.peer)));
  // A connection that cannot start logs and retires itself.
  static_cast<void>(refused ? c.start_refused(admitted.refusal) : c.start());
}

void Server::sweep(Worker& w) {
  auto now = w.loop.now();
  if (&w == workers_[0].get() && now - last_trim_ >= kTrimInterval) {
    // Bursts (a thousand join notices to a thousand clients) leave freed
    // memory scattered through glibc's heaps, which keeps it in RSS. Give the
    // free pages back now and then; it costs a walk of the free lists.
    last_trim_ = now;
    malloc_trim(0);
    addresses_->prune(SharedRate::Clock::now());  // edge: forget idle addresses
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
  if (metrics_listener_) metrics_listener_->close();
  if (plain_listener_) plain_listener_->close();
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
  signals_ = std::make_unique<SignalWatcher>(workers_[0]->loop, [this](int s) { on_signal(s); });
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
