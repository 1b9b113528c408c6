#include "app/server.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "app/http_session.h"
#include "net/socket.h"
#include "web_assets.h"

namespace parley::app {
namespace {

// How often deadlines (handshake, ping, idle, closing) are checked. Coarse on
// purpose: one pass over the session list instead of a timer per connection.
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

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
    if (fd_ >= 0) loop_.add(fd_, EPOLLIN, this);
  }
  ~SignalWatcher() {
    if (fd_ >= 0) {
      loop_.remove(fd_);
      close(fd_);
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

Server::Server(Config config) : config_(std::move(config)) {
  ctx_ = std::make_unique<ServerContext>(
      config_, loop_, http::StaticFiles({web::kFiles, web::kFileCount}));
}

Server::~Server() = default;

std::optional<std::string> Server::listen() {
  auto result = net::listen_tcp(config_.host, config_.port);
  if (auto* err = std::get_if<net::SocketError>(&result)) return err->message;
  int fd = std::get<int>(result);
  port_ = net::local_port(fd);
  listener_ = std::make_unique<net::Listener>(loop_, fd, [this](int c) { on_accept(c); });
  return std::nullopt;
}

void Server::on_accept(int fd) {
  if (ctx_->shutting_down) {
    close(fd);
    return;
  }
  net::set_tcp_nodelay(fd);
  ++ctx_->stats.connections_accepted;
  auto* session = new HttpSession(*ctx_, fd);
  session->start();
}

void Server::sweep() {
  auto now = loop_.now();
  ctx_->sessions.for_each([now](Session& s) { s.tick(now); });
  if (ctx_->shutting_down && ctx_->sessions.empty()) {
    loop_.stop();
    return;
  }
  loop_.run_after(kSweepInterval, [this] { sweep(); });
}

void Server::begin_shutdown() {
  if (ctx_->shutting_down) return;
  ctx_->shutting_down = true;
  if (listener_) listener_->close();
  ctx_->sessions.for_each([](Session& s) { s.shutdown(); });
  loop_.run_after(seconds(config_.shutdown_timeout), [this] {
    spdlog::warn("shutdown timeout: {} connections still open, closing them", ctx_->sessions.size());
    loop_.stop();
  });
}

int Server::run() {
  signals_ = std::make_unique<SignalWatcher>(loop_, [this] { begin_shutdown(); });
  loop_.run_after(kSweepInterval, [this] { sweep(); });
  loop_.run();
  spdlog::info("stopped: {} connections served, {} WebSocket sessions, {} messages",
               ctx_->stats.connections_accepted, ctx_->stats.websocket_upgrades,
               ctx_->stats.messages_received);
  return 0;
}

}  // namespace parley::app
