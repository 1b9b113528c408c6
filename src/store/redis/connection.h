// One connection to Redis, living on one event loop: commands in, replies
// out through callbacks, and reconnection with backoff when Redis goes away.
//
// States: Down -> Connecting (TCP connect, then AUTH / SELECT / CLIENT
// SETNAME / PING pipelined) -> Up. Only an Up connection takes commands;
// anything asked of it otherwise is answered at once with Errc::Unavailable,
// never queued, so a caller (a chat send) hears "not now" instead of waiting
// on a Redis that is gone. Every command sent gets exactly one answer: its
// reply, or Unavailable when the connection breaks first; hiredis pipelines
// what is sent during one loop iteration into one write.
//
// Failures are noticed three ways: the socket closes (Redis died or
// restarted), a reply is overdue by `command_timeout` (Redis hung, or the
// network dropped packets), or the connect takes longer than
// `connect_timeout`. Each leads to Down and a new attempt after a backoff
// that doubles from `backoff_min` to `backoff_max` (with jitter, so nodes
// restarted together do not reconnect in lockstep). TCP keepalive covers the
// subscriber connection, which has no replies to time.
//
// Loop thread only, like everything on a loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/event_loop.h"
#include "store/redis/event_loop_adapter.h"
#include "store/redis/reply.h"
#include "store/redis/url.h"

struct redisAsyncContext;

namespace parley::redis {

// A Lua script, sent by its SHA-1 (EVALSHA) and in full only when Redis does
// not know it yet (NOSCRIPT: after a restart or SCRIPT FLUSH).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;  // hex
};

class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  // The reply (never an error reply: those arrive as an Error) or why none came.
  using Callback = std::function<void(Result<Reply>)>;
  // For (P)SUBSCRIBE: hiredis keeps this for every message of the channel.
  using RawCallback = void (*)(redisAsyncContext*, void* reply, void* privdata);

  struct Options {
    Endpoint endpoint;
    std::string name;  // CLIENT SETNAME, and logs
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
    std::chrono::milliseconds backoff_min{100};
    std::chrono::milliseconds backoff_max{2000};
  };

  Connection(net::EventLoop& loop, Options options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting (and reconnecting for as long as the object lives).
  void start();
  bool up() const { return state_ == State::Up; }
  bool in_loop_thread() const { return loop_.in_loop_thread(); }
  net::EventLoop& loop() const { return loop_; }

  // Called each time the connection comes (back) up, and each time it goes
  // down after having been up. Set before start().
  void on_up(std::function<void()> hook) { on_up_ = std::move(hook); }
  void on_down(std::function<void()> hook) { on_down_ = std::move(hook); }

  void command(std::span<const std::string_view> args, Callback done);
  void command(std::initializer_list<std::string_view> args, Callback done) {
    command(std::span<const std::string_view>(args.begin(), args.size()), std::move(done));
  }
  // Scripts this connection runs: loaded (SCRIPT LOAD) each time it comes
  // up. Register before start(); the scripts outlive the connection.
  void add_script(const Script& script) { scripts_.push_back(&script); }
  // EVALSHA of a registered script. Should Redis have lost it (SCRIPT
  // FLUSH), the answer is Unavailable and the scripts are loaded again.
  void eval(const Script& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, Callback done);

  // Subscriber connections: (P)SUBSCRIBE / (P)UNSUBSCRIBE with a callback
  // hiredis keeps per channel. False when not up.
  bool subscription_command(std::span<const std::string_view> args, RawCallback fn, void* privdata);

 private:
  enum class State { Down, Connecting, Up };
  struct Pending;

  void connect();
  void send_handshake();
  void handshake_done(Result<Reply> reply);
  void send(std::span<const std::string_view> args, Callback done);
  void went_down(std::string_view why);
  void drop(std::string_view why);
  void schedule_reconnect();
  void watchdog();
  void load_scripts();

  static void on_connect(const redisAsyncContext* context, int status);
  static void on_disconnect(const redisAsyncContext* context, int status);
  static void on_reply(redisAsyncContext* context, void* reply, void* privdata);

  net::EventLoop& loop_;
  const Options options_;
  EventLoopAdapter adapter_;
  redisAsyncContext* context_ = nullptr;
  State state_ = State::Down;
  bool started_ = false;
  bool closing_ = false;  // destructor running: callbacks are dropped
  Clock::time_point connect_started_{};
  std::deque<Clock::time_point> in_flight_;  // send times of unanswered commands, in order
  std::chrono::milliseconds backoff_;
  std::string last_error_;  // logged once until it changes
  std::function<void()> on_up_, on_down_;
  std::vector<const Script*> scripts_;
  // Timers hold this, not the connection: a timer that outlives it finds it expired.
  std::shared_ptr<Connection*> self_;
};

}  // namespace parley::redis
