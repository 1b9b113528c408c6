// Fan-out without allocation: what one broadcast costs per recipient on the
// server's real path, and proof that it allocates nothing and takes no lock
// per recipient (docs/BENCHMARKS.md, "Fan-out without allocation").
//
// This executable replaces the global operator new/delete with counting
// versions and interposes pthread_mutex_lock (std::mutex ends there) with a
// counting one. Everything runs on a real net::EventLoop driven by
// EventLoop::run(): N server-side TcpConnections over socketpairs, each owned by
// a real app::Connection in its WebSocket phase; the other ends of the
// socketpairs are drained by handlers on the same loop (the "clients").
//
// One benchmark iteration = one broadcast round. The counters, the clock and
// the lock count are read at the start of the round (in a before-sleep hook)
// and right after the loop's corked flush that wrote the round's frames (a
// Corked marker queued behind the connections), so the window holds the
// server's work only: deliver + N writev, not the clients' reads.
//
//   BM_LocalRoom/N/B   chat::LocalRoom::deliver -> Member::deliver (as
//                      ChatSession does) -> ChatLink::send_text -> WebSocketPhase ->
//                      TcpConnection::send -> OutputQueue -> EventLoop::cork ->
//                      before-sleep flush, one writev per recipient. B
//                      broadcasts per loop iteration (a new frame each, as the
//                      hub builds one per message).
//   BM_Hub/N           the whole path of a plain-text message: sender's
//                      WebSocketPhase::on_message -> PlainTextSession ->
//                      ChatHub::send -> (post) RoomHome -> encode once ->
//                      (post) LocalRoom::deliver -> ... -> writev, one loop,
//                      no history store.
//
// Time (manual) is the loop thread's CPU time in that window
// (CLOCK_THREAD_CPUTIME_ID: user + kernel, so the writev counts, and a busy
// shared machine does not inflate it); wall_ns/rcpt is the wall-clock figure.
// Counters: allocs/bcast, locks/bcast (per broadcast, all recipients),
// allocs/rcpt (per recipient, after subtracting the frame's own allocations;
// BM_LocalRoom only, must be 0), ns/rcpt (CPU time per delivered frame),
// enqueue_ns/rcpt (BM_LocalRoom: the part before the writev, frame encoding
// included).
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "app/connection.h"
#include "app/event_loop_port.h"
#include "app/server_context.h"
#include "chat/chat_hub.h"
#include "chat/identity.h"
#include "chat/json_session.h"
#include "chat/member.h"
#include "chat/memory_history.h"
#include "chat/room.h"
#include "http/static_files.h"
#include "net/event_loop.h"
#include "net/tcp_connection.h"
#include "ws/frame_writer.h"
#include "ws/opcode.h"

// --- counting allocator and lock counter -----------------------------------

namespace {
std::atomic<uint64_t> g_allocs{0};
std::atomic<uint64_t> g_locks{0};

void* counted_alloc(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  auto a = static_cast<std::size_t>(al);
  std::size_t size = (n + a - 1) / a * a;  // aligned_alloc wants a multiple
  if (void* p = std::aligned_alloc(a, size == 0 ? a : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  return counted_aligned_alloc(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al) {
  return counted_aligned_alloc(n, al);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

// std::mutex::lock calls pthread_mutex_lock; a definition in the executable
// takes precedence over libc's for every caller in the process.
extern "C" int pthread_mutex_lock(pthread_mutex_t* m) noexcept {
  using Fn = int (*)(pthread_mutex_t*);
  static Fn real = nullptr;
  if (real == nullptr) real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
  g_locks.fetch_add(1, std::memory_order_relaxed);
  return real(m);
}

namespace parley {
namespace {

using net::Clock;

// CPU time of this thread (user + kernel: the writev's work is charged here).
// Unlike the wall clock it does not count the time other processes on a shared
// machine hold the core.
uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct Snapshot {
  uint64_t allocs = 0;
  uint64_t locks = 0;
  uint64_t cpu_ns = 0;
  Clock::time_point wall{};
};

Snapshot snap() {
  return {g_allocs.load(std::memory_order_relaxed), g_locks.load(std::memory_order_relaxed),
          thread_cpu_ns(), Clock::now()};
}

// What the clients read lands here (one thread; the bytes are only counted).
std::array<char, std::size_t{256} * 1024> g_client_buffer;

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// The loop, the server-wide services a Connection needs, N connections over
// socketpairs, and the drained client ends. Subclasses say what one round is.
class FanoutHarness {
 public:
  // SharedServices is an aggregate whose later fields (counters, the loop
  // list for /metrics) have defaults the bench does not need to name.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  FanoutHarness(benchmark::State& state, std::size_t recipients)
      : state_(state),
        recipients_(recipients),
        static_files_(std::span<const http::EmbeddedFile>{}),
        identity_(std::string(32, 's')),
        history_(chat::MemoryHistory::Options{}),
        port_(loop_),
        hub_({&port_}, history_, bus_, chat::ChatOptions{}),
        services_{.config = config_,
                  .static_files = static_files_,
                  .chat = hub_,
                  .identity = identity_,
                  .json_options = json_options_},
        ctx_(services_, loop_, 0),
        flush_mark_(*this) {
    raise_fd_limit();
    // The sender sends as fast as the benchmark loops: no rate limit (the
    // server's default would drop most of its messages, as it should).
    json_options_.rate_per_sec = 1e12;
    json_options_.rate_burst = 1e12;
  }
#pragma GCC diagnostic pop

  virtual ~FanoutHarness() {
    for (app::Connection* c : sessions_) c->abort();  // its list frees it (deferred)
    loop_.run_pending();
    for (auto& c : clients_) {
      loop_.remove(c->fd);
      ::close(c->fd);
    }
  }

  FanoutHarness(const FanoutHarness&) = delete;
  FanoutHarness& operator=(const FanoutHarness&) = delete;

  // Runs warm-up rounds, then one round per benchmark iteration.
  void run() {
    if (failed_) return;
    loop_.add_before_sleep([this] { before_sleep(); });
    loop_.run();
    if (rounds_ == 0) return;
    double bcasts = static_cast<double>(rounds_) * per_round_;
    double allocs_per_bcast = static_cast<double>(allocs_) / bcasts;
    state_.counters["allocs/bcast"] = allocs_per_bcast;
    state_.counters["locks/bcast"] = static_cast<double>(locks_) / bcasts;
    double deliveries = bcasts * static_cast<double>(recipients_);
    state_.counters["ns/rcpt"] = static_cast<double>(ns_) / deliveries;
    state_.counters["wall_ns/rcpt"] = static_cast<double>(wall_ns_) / deliveries;
    report(allocs_per_bcast, deliveries);
  }

 protected:
  // A server-side session over a fresh socketpair; `client` ends are drained.
  app::WebSocketPhase* add_session(app::WebSocketService service, const std::string& room) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      state_.SkipWithError("socketpair failed (descriptor limit?)");
      failed_ = true;
      return nullptr;
    }
    auto stream = std::make_unique<net::TcpConnection>(loop_, fds[0]);
    app::Connection& c =
        ctx_.connections.add(std::make_unique<app::Connection>(ctx_, std::move(stream)));
    if (!c.start_websocket(service, room)) {
      state_.SkipWithError("cannot watch a socket");
      failed_ = true;
      return nullptr;
    }
    sessions_.push_back(&c);
    auto client = std::make_unique<Client>(*this, fds[1]);
    static_cast<void>(loop_.add(fds[1], EPOLLIN, client.get()));
    clients_.push_back(std::move(client));
    return c.websocket();
  }

  // One round: queue this round's frames (they leave with the loop's corked
  // flush right after the before-sleep hooks).
  virtual void start_round() = 0;
  // Bytes all clients together receive per round.
  virtual uint64_t bytes_per_round() const = 0;
  virtual void report(double /*allocs_per_bcast*/, double /*deliveries*/) {}
  // Whether the setup traffic (joins) is over and rounds may start.
  virtual bool ready() {
    return true;
  }
  // Called for every chunk a client reads.
  virtual void on_client_bytes(std::span<const char> /*bytes*/) {}

  net::EventLoop loop_;
  benchmark::State& state_;
  std::size_t recipients_;
  int per_round_ = 1;  // broadcasts per round
  app::Config config_;
  http::StaticFiles static_files_;
  chat::Identity identity_;
  chat::JsonSessionOptions json_options_;
  chat::MemoryHistory history_;
  app::EventLoopPort port_;
  chat::LocalBus bus_;
  chat::ChatHub hub_;
  app::SharedServices services_;
  app::LoopContext ctx_;
  std::vector<app::Connection*> sessions_;
  bool failed_ = false;
  uint64_t enqueue_ns_ = 0;  // CPU time of start_round() alone

 private:
  static constexpr int kWarmupRounds = 50;

  // A client end: reads and discards, counting bytes.
  struct Client final : net::IoHandler {
    Client(FanoutHarness& h, int f) : harness(h), fd(f) {}
    void on_io(uint32_t) override {
      ssize_t n = ::read(fd, g_client_buffer.data(), g_client_buffer.size());
      if (n > 0)
        harness.on_read(std::span<const char>(g_client_buffer.data(), static_cast<std::size_t>(n)));
    }
    FanoutHarness& harness;
    int fd;
  };

  // Queued behind the connections: its flush() runs right after theirs.
  struct FlushMark final : net::Corked {
    explicit FlushMark(FanoutHarness& h) : harness(h) {}
    void flush() override { harness.last_flush_ = snap(); }
    FanoutHarness& harness;
  };

  void on_read(std::span<const char> bytes) {
    on_client_bytes(bytes);
    if (!in_round_) return;
    if (!got_first_byte_) {
      got_first_byte_ = true;
      round_end_ = last_flush_;  // the flush that wrote this round
    }
    received_ += bytes.size();
    if (received_ < bytes_per_round()) return;
    in_round_ = false;
    if (measuring_) {
      uint64_t ns = round_end_.cpu_ns - round_start_.cpu_ns;
      state_.SetIterationTime(static_cast<double>(ns) * 1e-9);
      ns_ += ns;
      wall_ns_ += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(round_end_.wall - round_start_.wall)
              .count());
      allocs_ += round_end_.allocs - round_start_.allocs;
      locks_ += round_end_.locks - round_start_.locks;
      ++rounds_;
    }
  }

  void before_sleep() {
    if (done_) return;
    if (in_round_) {
      // Until the clients see bytes, every flush may be the round's.
      if (!got_first_byte_) loop_.cork(&flush_mark_);
      return;
    }
    if (!ready()) return;
    if (warmup_left_ > 0) {
      --warmup_left_;
    } else {
      measuring_ = true;
      if (!state_.KeepRunning()) {
        done_ = true;
        loop_.stop();
        return;
      }
    }
    in_round_ = true;
    got_first_byte_ = false;
    received_ = 0;
    round_start_ = snap();
    start_round();
    if (measuring_) enqueue_ns_ += thread_cpu_ns() - round_start_.cpu_ns;
    loop_.cork(&flush_mark_);
  }

  FlushMark flush_mark_;
  std::vector<std::unique_ptr<Client>> clients_;
  int warmup_left_ = kWarmupRounds;
  bool measuring_ = false;
  bool done_ = false;
  bool in_round_ = false;
  bool got_first_byte_ = false;
  uint64_t received_ = 0;
  Snapshot round_start_, round_end_, last_flush_;
  uint64_t rounds_ = 0, ns_ = 0, wall_ns_ = 0, allocs_ = 0, locks_ = 0;
};

// Hands a frame to a transport exactly as chat::ChatSession::deliver does.
class TransportMember final : public chat::Member {
 public:
  explicit TransportMember(chat::ChatTransport& t) : transport_(t) {}
  chat::Protocol protocol() const override { return chat::Protocol::PlainText; }
  void deliver(const SharedText& text, bool ephemeral = false) override {
    transport_.send_text(text, ephemeral);
  }
  bool in_room(std::string_view) const override { return true; }

 private:
  chat::ChatTransport& transport_;
};

const std::string kText(128, 'x');  // a typical chat line

class LocalRoomFanout final : public FanoutHarness {
 public:
  LocalRoomFanout(benchmark::State& state, std::size_t n, int per_round) : FanoutHarness(state, n) {
    per_round_ = per_round;
    members_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      app::WebSocketPhase* s = add_session(app::WebSocketService::Echo, {});
      if (s == nullptr) return;
      members_.push_back(std::make_unique<TransportMember>(s->chat_transport()));
      room_.add(members_.back().get(), chat::MemberRef{0, static_cast<uint32_t>(i), 0});
    }
    uint64_t before = g_allocs.load();
    frame_size_ = ws::encode_frame(ws::Opcode::Text, kText).size();
    frame_allocs_ = g_allocs.load() - before;
  }

 private:
  void start_round() override {
    for (int b = 0; b < per_round_; ++b) {
      SharedText text = make_shared_text(kText);  // as the hub encodes each message
      chat::RoomEvent event{text, text, false};
      room_.deliver(event, chat::MemberRef{UINT32_MAX, 0, 0});
    }
  }
  uint64_t bytes_per_round() const override {
    return frame_size_ * recipients_ * static_cast<uint64_t>(per_round_);
  }
  void report(double per_bcast, double deliveries) override {
    // Queueing alone (deliver -> ... -> OutputQueue::append, cork), no writev.
    state_.counters["enqueue_ns/rcpt"] = static_cast<double>(enqueue_ns_) / deliveries;
    state_.counters["allocs/rcpt"] =
        (per_bcast - static_cast<double>(frame_allocs_)) / static_cast<double>(recipients_);
    state_.counters["frame_allocs"] = static_cast<double>(frame_allocs_);
  }

  chat::LocalRoom room_;
  std::vector<std::unique_ptr<TransportMember>> members_;
  uint64_t frame_size_ = 0;
  uint64_t frame_allocs_ = 0;
};

class HubFanout final : public FanoutHarness {
 public:
  HubFanout(benchmark::State& state, std::size_t n) : FanoutHarness(state, n) {
    sender_ = add_session(app::WebSocketService::PlainChat, "bench");
    for (std::size_t i = 0; i < n && sender_ != nullptr; ++i) {
      if (add_session(app::WebSocketService::PlainChat, "bench") == nullptr) return;
    }
    frame_size_ = ws::encode_frame(ws::Opcode::Text, kText).size();
  }

 private:
  // The joins announce themselves to everyone already in the room; rounds
  // start once the sender's probe, ordered by the room's home after every
  // join, has reached all N.
  bool ready() override {
    if (probed_ == recipients_) return true;
    if (!probe_sent_) {
      probe_sent_ = true;
      sender_->on_message(ws::Opcode::Text, kProbe);
    }
    return false;
  }
  void on_client_bytes(std::span<const char> bytes) override {
    if (probed_ == recipients_) return;
    std::string_view s(bytes.data(), bytes.size());
    if (s.find(kProbe) != std::string_view::npos)
      ++probed_;  // a frame this small is never split here
  }
  void start_round() override { sender_->on_message(ws::Opcode::Text, kText); }
  uint64_t bytes_per_round() const override { return frame_size_ * recipients_; }

  static constexpr std::string_view kProbe = "probe: every join is done";
  app::WebSocketPhase* sender_ = nullptr;
  std::size_t probed_ = 0;
  bool probe_sent_ = false;
  uint64_t frame_size_ = 0;
};

void BM_LocalRoom(benchmark::State& state) {
  LocalRoomFanout h(state, static_cast<std::size_t>(state.range(0)),
                    static_cast<int>(state.range(1)));
  h.run();
}
BENCHMARK(BM_LocalRoom)
    ->ArgNames({"N", "B"})
    ->Args({10, 1})
    ->Args({100, 1})
    ->Args({1000, 1})
    ->Args({100, 16})
    ->Args({100, 17})
    ->Args({100, 64})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_Hub(benchmark::State& state) {
  HubFanout h(state, static_cast<std::size_t>(state.range(0)));
  h.run();
}
BENCHMARK(BM_Hub)->ArgName("N")->Arg(10)->Arg(100)->Arg(1000)->UseManualTime()->Unit(
    benchmark::kMicrosecond);

}  // namespace
}  // namespace parley

BENCHMARK_MAIN();
