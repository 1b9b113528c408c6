#include "store/redis/connection.h"

#include <hiredis/async.h>
#include <openssl/sha.h>

#include <random>

#include <spdlog/spdlog.h>

namespace parley::redis {
namespace {

// Redis' answers that mean "not now" rather than "never".
bool transient(std::string_view message) {
  for (std::string_view prefix : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY", "OOM",
                                  "MISCONF", "CLUSTERDOWN", "NOSCRIPT"}) {
    if (message.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

Error reply_error(std::string_view message) {
  return Error{transient(message) ? Errc::Unavailable : Errc::Internal,
               "Redis: " + std::string(message)};
}

Error unavailable(std::string_view why) {
  return Error{Errc::Unavailable, std::string(why)};
}

}  // namespace

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : digest) {
    sha1_.push_back(kHex[b >> 4]);
    sha1_.push_back(kHex[b & 15]);
  }
}

struct Connection::Pending {
  Connection* owner;
  Callback done;
};

Connection::Connection(net::EventLoop& loop, Options options)
    : loop_(loop),
      options_(std::move(options)),
      adapter_(loop),
      backoff_(options_.backoff_min),
      self_(std::make_shared<Connection*>(this)) {}

Connection::~Connection() {
  closing_ = true;
  self_.reset();
  if (context_ != nullptr) {
    redisAsyncContext* c = context_;
    context_ = nullptr;
    redisAsyncFree(c);  // pending callbacks run with no reply and are dropped
  }
}

void Connection::start() {
  if (started_) return;
  started_ = true;
  connect();
  watchdog();
}

// --- connecting ------------------------------------------------------------------

void Connection::connect() {
  state_ = State::Connecting;
  connect_started_ = Clock::now();
  const Endpoint& e = options_.endpoint;
  redisAsyncContext* c = e.unix_path.empty() ? redisAsyncConnect(e.host.c_str(), e.port)
                                             : redisAsyncConnectUnix(e.unix_path.c_str());
  if (c == nullptr) {
    went_down("out of memory");
    return;
  }
  if (c->err != 0) {
    std::string why = c->errstr;
    redisAsyncFree(c);
    went_down(why);
    return;
  }
  c->data = this;
  redisAsyncSetConnectCallback(c, &Connection::on_connect);
  redisAsyncSetDisconnectCallback(c, &Connection::on_disconnect);
  context_ = c;
  adapter_.attach(c);
  redisEnableKeepAlive(&c->c);
  send_handshake();  // queued until the connect completes, then written at once
}

void Connection::send_handshake() {
  const Endpoint& e = options_.endpoint;
  auto step = [this](Result<Reply> r) { handshake_done(std::move(r)); };
  if (!e.password.empty()) {
    if (e.user.empty()) {
      send(std::array<std::string_view, 2>{"AUTH", e.password}, step);
    } else {
      send(std::array<std::string_view, 3>{"AUTH", e.user, e.password}, step);
    }
  }
  std::string db = std::to_string(e.db);
  if (e.db != 0) send(std::array<std::string_view, 2>{"SELECT", db}, step);
  if (!options_.name.empty()) {
    send(std::array<std::string_view, 3>{"CLIENT", "SETNAME", options_.name}, step);
  }
  for (const Script* s : scripts_) {
    send(std::array<std::string_view, 3>{"SCRIPT", "LOAD", s->source()}, step);
  }
  // The last answer of the handshake: the connection is up.
  send(std::array<std::string_view, 1>{"PING"}, [this](Result<Reply> r) {
    if (state_ != State::Connecting) return;
    if (!r) {
      handshake_done(std::move(r));
      return;
    }
    state_ = State::Up;
    backoff_ = options_.backoff_min;
    last_error_.clear();
    spdlog::info("redis {}: connected to {}", options_.name, options_.endpoint.describe());
    if (on_up_) on_up_();
  });
}

void Connection::handshake_done(Result<Reply> reply) {
  if (reply || state_ != State::Connecting) return;
  drop(reply.error().message);
}

// --- commands ------------------------------------------------------------------

void Connection::command(std::span<const std::string_view> args, Callback done) {
  if (state_ != State::Up) {
    done(unavailable("Redis is not connected"));
    return;
  }
  send(args, std::move(done));
}

void Connection::send(std::span<const std::string_view> args, Callback done) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* pending = new Pending{this, std::move(done)};
  if (context_ == nullptr ||
      redisAsyncCommandArgv(context_, &Connection::on_reply, pending, static_cast<int>(argv.size()),
                            argv.data(), lens.data()) != REDIS_OK) {
    Callback cb = std::move(pending->done);
    delete pending;
    cb(unavailable("Redis is not connected"));
    return;
  }
  in_flight_.push_back(Clock::now());
}

void Connection::eval(const Script& script, std::span<const std::string_view> keys,
                      std::span<const std::string_view> args, Callback done) {
  std::string numkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(numkeys);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  command(argv, [this, done = std::move(done)](Result<Reply> r) {
    if (!r && r.error().message.find("NOSCRIPT") != std::string::npos) load_scripts();
    done(std::move(r));
  });
}

void Connection::load_scripts() {
  for (const Script* s : scripts_) {
    command({"SCRIPT", "LOAD", s->source()}, [](Result<Reply>) {});
  }
}

bool Connection::subscription_command(std::span<const std::string_view> args, RawCallback fn,
                                      void* privdata) {
  if (state_ != State::Up) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(context_, fn, privdata, static_cast<int>(argv.size()), argv.data(),
                               lens.data()) == REDIS_OK;
}

void Connection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  Connection* self = pending->owner;
  if (self->closing_) return;
  if (reply == nullptr) {
    pending->done(unavailable("the connection to Redis broke before its answer"));
    return;
  }
  if (!self->in_flight_.empty()) self->in_flight_.pop_front();
  Reply r(static_cast<const redisReply*>(reply));
  if (r.is_error()) {
    pending->done(reply_error(r.str()));
    return;
  }
  pending->done(r);
}

// --- going down and coming back ----------------------------------------------------

void Connection::on_connect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<Connection*>(context->data);
  if (self == nullptr || self->closing_ || status == REDIS_OK) return;
  // hiredis frees a context whose connect failed, right after this.
  if (context == self->context_) {
    self->context_ = nullptr;
    self->went_down(context->errstr);
  }
}

void Connection::on_disconnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<Connection*>(context->data);
  if (self == nullptr || self->closing_ || context != self->context_) return;
  self->context_ = nullptr;
  self->went_down(status == REDIS_OK ? "closed" : context->errstr);
}

void Connection::drop(std::string_view why) {
  redisAsyncContext* c = context_;
  context_ = nullptr;
  went_down(why);
  // Inside a hiredis callback the free waits for it to return; either way the
  // unanswered commands are answered Unavailable.
  if (c != nullptr) redisAsyncFree(c);
}

void Connection::went_down(std::string_view why) {
  const bool was_up = state_ == State::Up;
  state_ = State::Down;
  in_flight_.clear();
  if (was_up) {
    spdlog::warn("redis {}: connection to {} lost ({}); reconnecting", options_.name,
                 options_.endpoint.describe(), why);
  } else if (why != last_error_) {
    spdlog::warn("redis {}: cannot connect to {}: {}; retrying", options_.name,
                 options_.endpoint.describe(), why);
  }
  last_error_ = std::string(why);
  if (was_up && on_down_) on_down_();
  if (!closing_) schedule_reconnect();
}

void Connection::schedule_reconnect() {
  static thread_local std::minstd_rand jitter{std::random_device{}()};
  auto delay = backoff_ + std::chrono::milliseconds(jitter() % (backoff_.count() / 2 + 1));
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  std::weak_ptr<Connection*> self = self_;
  loop_.run_after(delay, [self] {
    if (auto s = self.lock()) (*s)->connect();
  });
}

void Connection::watchdog() {
  auto now = Clock::now();
  if (state_ == State::Connecting && now - connect_started_ > options_.connect_timeout) {
    drop("no answer within the connect timeout");
  } else if (state_ == State::Up && !in_flight_.empty() &&
             now - in_flight_.front() > options_.command_timeout) {
    drop("a command got no answer within the command timeout");
  }
  std::weak_ptr<Connection*> self = self_;
  loop_.run_after(std::chrono::milliseconds(250), [self] {
    if (auto s = self.lock()) (*s)->watchdog();
  });
}

}  // namespace parley::redis
