#include "app/redis_engine.h"

#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstring>

#include "app/config.h"

namespace parley::app {
namespace {

constexpr const char* kSecretKey = "parley:secret";

redis::Connection::Options connection_options(const redis::Endpoint& endpoint,
                                              const std::string& name) {
  redis::Connection::Options o;
  o.endpoint = endpoint;
  o.name = name;
  return o;
}

Error redis_error(const redis::Endpoint& e, std::string_view why) {
  return Error{Errc::Unavailable,
               "cannot reach Redis at " + e.describe() + ": " + std::string(why)};
}

}  // namespace

std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "node");
  std::string id = std::string(host).substr(0, 40) + "-" + std::to_string(getpid());
  for (char& c : id) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') c = '_';
  }
  return id;
}

Status check_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return Error{Errc::Invalid, "--node-id must be 1-64 bytes"};
  for (char c : id) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') {
      return Error{
          Errc::Invalid,
          "--node-id may hold printable ASCII only, without spaces, quotes or backslashes"};
    }
  }
  return {};
}

Result<std::unique_ptr<RedisEngine>> RedisEngine::create(const Config& config,
                                                         std::vector<net::EventLoop*> loops) {
  Result<redis::Endpoint> endpoint = redis::parse_url(config.redis);
  if (!endpoint) return std::move(endpoint).error();
  std::unique_ptr<RedisEngine> engine(new RedisEngine());
  engine->node_ = config.node_id.empty() ? default_node_id() : config.node_id;
  if (Status s = check_node_id(engine->node_); !s) return s.error();

  std::vector<redis::Connection*> per_loop;
  for (std::size_t i = 0; i < loops.size(); ++i) {
    auto c = std::make_unique<redis::Connection>(
        *loops[i],
        connection_options(*endpoint, "parley:" + engine->node_ + ":loop" + std::to_string(i)));
    for (const redis::Script* s : chat::RedisHistory::scripts()) c->add_script(*s);
    for (const redis::Script* s : chat::RedisPresence::scripts()) c->add_script(*s);
    per_loop.push_back(c.get());
    engine->commands_.push_back(std::move(c));
  }
  chat::RedisHistory::Options h;
  h.node = engine->node_;
  h.retain_per_room = config.history_retain;
  h.retain_age = std::chrono::seconds(static_cast<int64_t>(config.history_retain_days * 86400));
  h.dedup_ttl = std::chrono::seconds(static_cast<int64_t>(config.resume_ttl));
  engine->presence_ = std::make_unique<chat::RedisPresence>(
      per_loop, chat::RedisPresence::Options{engine->node_, std::chrono::milliseconds(5000),
                                             std::chrono::milliseconds(1000)});
  engine->guests_ = std::make_unique<chat::RedisGuests>(*per_loop.front());
  chat::RedisGuests* guests = engine->guests_.get();
  per_loop.front()->on_up([guests] { guests->connection_up(); });
  engine->history_ = std::make_unique<chat::RedisHistory>(std::move(per_loop), h);
  engine->bus_ = std::make_unique<chat::RedisBus>(
      *loops[0], connection_options(*endpoint, "parley:" + engine->node_ + ":sub"), engine->node_);
  return engine;
}

RedisEngine::~RedisEngine() {
  guests_.reset();  // timers and callbacks first, then the connections
  presence_.reset();
}

void RedisEngine::start() {
  for (auto& c : commands_) {
    redis::Connection* conn = c.get();
    conn->loop().post([conn] { conn->start(); });
  }
  chat::RedisBus* bus = bus_.get();
  chat::RedisPresence* presence = presence_.get();
  chat::RedisGuests* guests = guests_.get();
  commands_.front()->loop().post([bus, presence, guests] {
    bus->start();
    presence->start();
    guests->start();
  });
}

Result<std::string> RedisEngine::shared_secret(const redis::Endpoint& e) {
  timeval timeout{2, 0};
  redisContext* c = e.unix_path.empty() ? redisConnectWithTimeout(e.host.c_str(), e.port, timeout)
                                        : redisConnectUnixWithTimeout(e.unix_path.c_str(), timeout);
  if (c == nullptr) return redis_error(e, "out of memory");
  std::unique_ptr<redisContext, void (*)(redisContext*)> guard(c, &redisFree);
  if (c->err != 0) return redis_error(e, c->errstr);
  redisSetTimeout(c, timeout);
  auto run = [&](std::vector<std::string> args) -> Result<std::string> {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) return redis_error(e, c->errstr);
    std::unique_ptr<redisReply, void (*)(void*)> reply(r, &freeReplyObject);
    if (r->type == REDIS_REPLY_ERROR) return redis_error(e, std::string(r->str, r->len));
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
      return std::string(r->str, r->len);
    }
    return std::string();
  };
  if (!e.password.empty()) {
    auto auth = e.user.empty() ? run({"AUTH", e.password}) : run({"AUTH", e.user, e.password});
    if (!auth) return auth;
  }
  if (e.db != 0) {
    auto select = run({"SELECT", std::to_string(e.db)});
    if (!select) return select;
  }
  std::string fresh(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), 32) != 1) {
    return Error{Errc::Internal, "no random bytes for the shared secret"};
  }
  // The first node creates it; every node then reads the same one.
  auto set = run({"SET", kSecretKey, fresh, "NX"});
  if (!set) return set;
  auto secret = run({"GET", kSecretKey});
  if (secret && secret->size() < 32) {
    return Error{Errc::Invalid, std::string(kSecretKey) + " in Redis is shorter than 32 bytes"};
  }
  return secret;
}

}  // namespace parley::app
