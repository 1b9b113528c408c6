#include "chat/redis_presence.h"

#include <openssl/rand.h>

#include <array>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "chat/redis_codec.h"
#include "store/redis/connection.h"

namespace parley::chat {
namespace {

constexpr std::string_view kNodes = "parley:nodes";

// Shared by the scripts that change a roster. KEYS: this incarnation's hash
// (user -> connections here), pu, pn, pt, px, pc, ps (redis_codec.h).
// ARGV[1]: the room's channel. Each change publishes its event and adds it
// to `out`, which the script returns.
constexpr std::string_view kRosterLib = R"lua(
local mine, pu, pn, pt, px, pc, ps = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local channel = ARGV[1]
local out = {}
local function unique(wanted, user)
  local owner = redis.call('HGET', pt, wanted)
  if not owner or owner == user then return wanted end
  local n = tonumber(redis.call('HGET', px, wanted) or '2')
  while true do
    local cand = wanted .. '-' .. n
    n = n + 1
    local o = redis.call('HGET', pt, cand)
    if not o or o == user then
      redis.call('HSET', px, wanted, n)
      return cand
    end
  end
end
local function free(name, user)
  if redis.call('HGET', pt, name) == user then
    redis.call('HDEL', pt, name)
    redis.call('HDEL', px, name)
  end
end
local function publish(ev)
  ev.s = redis.call('INCR', ps)
  ev.c = tonumber(redis.call('GET', pc) or '0')
  ev.k = redis.call('HLEN', pu)
  local text = cjson.encode(ev)
  redis.call('PUBLISH', channel, text)
  out[#out + 1] = text
end
local function set(user, want, wanted)
  local old = tonumber(redis.call('HGET', mine, user) or '0')
  local delta = want - old
  if delta == 0 then return end
  if want > 0 then redis.call('HSET', mine, user, want) else redis.call('HDEL', mine, user) end
  local total = redis.call('HINCRBY', pu, user, delta)
  redis.call('INCRBY', pc, delta)
  local prev = total - delta
  local name = redis.call('HGET', pn, user)
  if total <= 0 then
    redis.call('HDEL', pu, user)
    if name then
      redis.call('HDEL', pn, user)
      free(name, user)
    end
    total = 0
  elseif not name then
    name = unique(wanted, user)
    redis.call('HSET', pn, user, name)
    redis.call('HSET', pt, name, user)
  end
  local kind = 'l'
  if delta > 0 then kind = 'j' end
  local changed = 0
  if (prev <= 0) ~= (total <= 0) then changed = 1 end
  publish({p = kind, u = user, f = name or '', uc = total, x = changed})
end
)lua";

// ARGV: channel, user, connections here, wanted name.
const redis::Script kSetCount(std::string(kRosterLib) + R"lua(
set(ARGV[2], tonumber(ARGV[3]), ARGV[4])
return out
)lua");

// ARGV: channel, user, wanted name.
const redis::Script kRename(std::string(kRosterLib) + R"lua(
local user, wanted = ARGV[2], ARGV[3]
local name = redis.call('HGET', pn, user)
if name and name ~= wanted then
  local new = unique(wanted, user)
  if new ~= name then
    redis.call('HSET', pn, user, new)
    redis.call('HSET', pt, new, user)
    free(name, user)
    publish({p = 'r', u = user, f = new, o = name,
             uc = tonumber(redis.call('HGET', pu, user) or '0'), x = 1})
  end
end
return out
)lua");

// ARGV: channel, then (user, wanted name, connections here) for every user
// this incarnation has in the room; the others it had are taken out. No
// users: every member of the incarnation goes (a dead node's eviction).
const redis::Script kSync(std::string(kRosterLib) + R"lua(
local want = {}
for i = 2, #ARGV, 3 do want[ARGV[i]] = {ARGV[i + 1], tonumber(ARGV[i + 2])} end
for _, user in ipairs(redis.call('HKEYS', mine)) do
  if not want[user] then set(user, 0, '') end
end
for user, w in pairs(want) do set(user, w[2], w[1]) end
return out
)lua");

// KEYS: pn, pu, pc, ps. Returns {seq, connections, HGETALL pn, HGETALL pu}.
const redis::Script kSnapshot(R"lua(
return {tonumber(redis.call('GET', KEYS[4]) or '0'), tonumber(redis.call('GET', KEYS[3]) or '0'),
        redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
)lua");

const Error kOffLoop{Errc::Internal, "Redis presence used off the event loops"};

std::string random_tag() {
  std::array<unsigned char, 6> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

struct RosterKeys {
  std::string mine, pu, pn, pt, px, pc, ps, channel;
};

RosterKeys roster_keys(const std::string& room, const std::string& incarnation) {
  redis_codec::RoomKeys k = redis_codec::keys_of(room);
  const std::string& b = k.base;
  return RosterKeys{b + "p:" + incarnation,
                    b + "pu",
                    b + "pn",
                    b + "pt",
                    b + "px",
                    b + "pc",
                    b + "ps",
                    k.channel};
}

Result<std::vector<PresenceChangeEvent>> changes_of(Result<redis::Reply> r) {
  if (!r) return std::move(r).error();
  std::vector<PresenceChangeEvent> out;
  for (std::size_t i = 0; i < r->size(); ++i) {
    std::optional<PresenceChangeEvent> e = redis_codec::decode_presence((*r)[i].str());
    if (!e)
      return Error{Errc::Corrupt, "Redis answered a presence change with an unexpected shape"};
    out.push_back(std::move(*e));
  }
  return out;
}

Result<RosterSnapshot> snapshot_of(Result<redis::Reply> r) {
  if (!r) return std::move(r).error();
  const redis::Reply& reply = *r;
  if (reply.size() != 4)
    return Error{Errc::Corrupt, "Redis answered a roster with an unexpected shape"};
  RosterSnapshot s;
  s.seq = static_cast<uint64_t>(reply[0].integer());
  s.connections = static_cast<uint64_t>(reply[1].integer());
  std::unordered_map<std::string_view, uint64_t> counts;
  redis::Reply pu = reply[3];
  for (std::size_t i = 0; i + 1 < pu.size(); i += 2) {
    counts[pu[i].str()] = std::strtoull(std::string(pu[i + 1].str()).c_str(), nullptr, 10);
  }
  redis::Reply pn = reply[2];
  for (std::size_t i = 0; i + 1 < pn.size(); i += 2) {
    auto n = counts.find(pn[i].str());
    if (n == counts.end() || n->second == 0) continue;
    s.users.push_back({std::string(pn[i].str()), std::string(pn[i + 1].str()), n->second});
  }
  return s;
}

}  // namespace

RedisPresence::RedisPresence(std::vector<redis::Connection*> connections, Options options)
    : connections_(std::move(connections)),
      options_(std::move(options)),
      incarnation_(options_.node + "/" + random_tag()),
      heartbeat_key_("parley:node:" + incarnation_),
      rooms_key_(heartbeat_key_ + ":rooms"),
      ttl_ms_(std::to_string(options_.ttl.count())),
      self_(std::make_shared<RedisPresence*>(this)) {}

RedisPresence::~RedisPresence() {
  self_.reset();
}

const std::vector<const redis::Script*>& RedisPresence::scripts() {
  static const std::vector<const redis::Script*> all{&kSetCount, &kRename, &kSync, &kSnapshot};
  return all;
}

redis::Connection* RedisPresence::here() const {
  for (redis::Connection* c : connections_) {
    if (c->in_loop_thread()) return c;
  }
  return nullptr;
}

// --- a room's roster ----------------------------------------------------------------

void RedisPresence::change(const std::string& room, const PresenceOp& op, ChangeDone done) {
  redis::Connection* c = here();
  if (c == nullptr) return done(kOffLoop);
  RosterKeys k = roster_keys(room, incarnation_);
  std::array<std::string_view, 7> keys{k.mine, k.pu, k.pn, k.pt, k.px, k.pc, k.ps};
  auto answer = [done = std::move(done)](Result<redis::Reply> r) {
    done(changes_of(std::move(r)));
  };
  // The room is in this incarnation's list before it has members there (the
  // same connection runs both in order), so the reaper finds them. Before
  // the first heartbeat, this incarnation registers itself here too (key
  // first: a reaper never sees the incarnation without it); after it, only
  // the heartbeat renews the key, so that a lapse is noticed (on_beat).
  if (!registered_.load(std::memory_order_relaxed)) {
    c->command({"SET", heartbeat_key_, "1", "PX", ttl_ms_}, [](Result<redis::Reply>) {});
    c->command({"SADD", kNodes, incarnation_}, [](Result<redis::Reply>) {});
  }
  c->command({"SADD", rooms_key_, room}, [](Result<redis::Reply>) {});
  switch (op.kind) {
    case PresenceOp::Kind::SetCount: {
      std::string count = std::to_string(op.count);
      std::array<std::string_view, 4> args{k.channel, op.user, count, op.name};
      c->eval(kSetCount, keys, args, std::move(answer));
      return;
    }
    case PresenceOp::Kind::Rename: {
      std::array<std::string_view, 3> args{k.channel, op.user, op.name};
      c->eval(kRename, keys, args, std::move(answer));
      return;
    }
    case PresenceOp::Kind::Sync: {
      std::vector<std::string> counts;
      counts.reserve(op.all.size());
      for (const RosterSnapshot::User& u : op.all) counts.push_back(std::to_string(u.connections));
      std::vector<std::string_view> args{k.channel};
      for (std::size_t i = 0; i < op.all.size(); ++i) {
        args.insert(args.end(), {op.all[i].user, op.all[i].name, counts[i]});
      }
      c->eval(kSync, keys, args, std::move(answer));
      return;
    }
  }
}

void RedisPresence::snapshot(const std::string& room, SnapshotDone done) {
  redis::Connection* c = here();
  if (c == nullptr) return done(kOffLoop);
  RosterKeys k = roster_keys(room, incarnation_);
  std::array<std::string_view, 4> keys{k.pn, k.pu, k.pc, k.ps};
  c->eval(kSnapshot, keys, {},
          [done = std::move(done)](Result<redis::Reply> r) { done(snapshot_of(std::move(r))); });
}

void RedisPresence::closed(const std::string& room) {
  // After the room's last change on the same connection: its list of rooms
  // holds only rooms with members here, for the reaper.
  if (redis::Connection* c = here())
    c->command({"SREM", rooms_key_, room}, [](Result<redis::Reply>) {});
}

// --- the heartbeat and the reaper -----------------------------------------------------

void RedisPresence::start() {
  beat();
}

void RedisPresence::beat() {
  redis::Connection& c = *connections_.front();
  std::weak_ptr<RedisPresence*> self = self_;
  // GET: whether the key was still there, i.e. no other node could have
  // taken this incarnation for dead since the last beat.
  c.command({"SET", heartbeat_key_, "1", "PX", ttl_ms_, "GET"}, [self](Result<redis::Reply> r) {
    if (auto s = self.lock()) (*s)->on_beat(r.has_value(), r && !r->is_nil());
  });
  c.command({"SADD", kNodes, incarnation_}, [](Result<redis::Reply>) {});
  reap();
  c.loop().run_after(options_.beat, [self] {
    if (auto s = self.lock()) (*s)->beat();
  });
}

void RedisPresence::on_beat(bool ok, bool key_was_there) {
  if (!ok) {
    beat_failed_ = true;
    return;
  }
  // Away from Redis (a failed beat) or taken for dead (the key had expired):
  // members may have been evicted, or leaves lost; every room sets them again.
  const bool lost = registered_.load() && (beat_failed_ || !key_was_there);
  registered_.store(true);
  beat_failed_ = false;
  if (lost && resync_) {
    spdlog::info("redis presence: heartbeat of {} lapsed; setting this node's members again",
                 incarnation_);
    resync_();
  }
}

void RedisPresence::reap() {
  redis::Connection& c = *connections_.front();
  std::weak_ptr<RedisPresence*> self = self_;
  c.command({"SMEMBERS", kNodes}, [self, &c](Result<redis::Reply> r) {
    auto s = self.lock();
    if (!s || !r) return;
    for (std::size_t i = 0; i < r->size(); ++i) {
      std::string incarnation((*r)[i].str());
      if (incarnation == (*s)->incarnation_) continue;
      c.command({"EXISTS", "parley:node:" + incarnation},
                [self, incarnation](Result<redis::Reply> alive) {
                  auto s2 = self.lock();
                  if (s2 && alive && alive->integer() == 0) (*s2)->reap_incarnation(incarnation);
                });
    }
  });
}

void RedisPresence::reap_incarnation(const std::string& incarnation) {
  redis::Connection& c = *connections_.front();
  std::weak_ptr<RedisPresence*> self = self_;
  std::string rooms = "parley:node:" + incarnation + ":rooms";
  c.command({"SMEMBERS", rooms}, [self, incarnation, &c](Result<redis::Reply> r) {
    auto s = self.lock();
    if (!s || !r) return;
    if (r->size() == 0) {  // nothing left of it
      c.command({"SREM", kNodes, incarnation}, [](Result<redis::Reply>) {});
      return;
    }
    spdlog::info("redis presence: node {} is gone; its members leave {} room(s)", incarnation,
                 r->size());
    for (std::size_t i = 0; i < r->size(); ++i)
      (*s)->evict_room(incarnation, std::string((*r)[i].str()));
  });
}

void RedisPresence::evict_room(const std::string& incarnation, const std::string& room) {
  redis::Connection& c = *connections_.front();
  RosterKeys k = roster_keys(room, incarnation);
  std::array<std::string_view, 7> keys{k.mine, k.pu, k.pn, k.pt, k.px, k.pc, k.ps};
  std::array<std::string_view, 1> args{k.channel};
  std::string rooms = "parley:node:" + incarnation + ":rooms";
  c.eval(kSync, keys, args, [&c, rooms, room](Result<redis::Reply> r) {
    if (r) c.command({"SREM", rooms, room}, [](Result<redis::Reply>) {});
  });
}

}  // namespace parley::chat
