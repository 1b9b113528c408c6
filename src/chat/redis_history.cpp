#include "chat/redis_history.h"

#include <array>
#include <charconv>
#include <memory>

#include "chat/redis_codec.h"
#include "chat/unicode_text.h"
#include "store/redis/connection.h"

namespace parley::chat {
namespace {

// KEYS: seq, log[, dedup]. ARGV: maxlen (0: all), retain ms (0: forever),
// dedup ttl s, channel, node, body (JSON). Returns {stored (1) or duplicate
// (0), msg_id, ts_ms}.
const redis::Script kAppend(R"lua(
local seq, log, dedup = KEYS[1], KEYS[2], KEYS[3]
if dedup then
  local seen = redis.call('GET', dedup)
  if seen then
    local sp = string.find(seen, ' ', 1, true)
    return {0, tonumber(string.sub(seen, 1, sp - 1)), tonumber(string.sub(seen, sp + 1))}
  end
end
local id = redis.call('INCR', seq)
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ids = string.format('%d', id)
local tss = string.format('%d', ts)
if ARGV[1] ~= '0' then
  redis.call('XADD', log, 'MAXLEN', ARGV[1], ids .. '-0', 'ts', tss, 'm', ARGV[6])
else
  redis.call('XADD', log, ids .. '-0', 'ts', tss, 'm', ARGV[6])
end
if ARGV[2] ~= '0' then
  local cutoff = ts - tonumber(ARGV[2])
  local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 8)
  for _, e in ipairs(oldest) do
    if tonumber(e[2][2]) >= cutoff then break end
    redis.call('XDEL', log, e[1])
  end
end
if dedup then redis.call('SET', dedup, ids .. ' ' .. tss, 'EX', ARGV[3]) end
redis.call('PUBLISH', ARGV[4], '{"id":' .. ids .. ',"ts":' .. tss .. ',"n":' .. ARGV[5] .. ',' .. string.sub(ARGV[6], 2))
return {1, id, ts}
)lua");

std::string json_string(std::string_view s) {
  // Node ids are printable ASCII without quotes (checked at start-up).
  return "\"" + std::string(s) + "\"";
}

Error malformed(std::string_view what) {
  return Error{Errc::Corrupt, "Redis answered " + std::string(what) + " with an unexpected shape"};
}

Result<Page> page_of(redis::Reply reply, std::size_t limit, bool newest_first) {
  Page page;
  std::size_t n = reply.size();
  page.truncated = n > limit;
  n = std::min(n, limit);
  page.messages.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::optional<Message> m = redis_codec::decode_entry(reply[newest_first ? n - 1 - i : i]);
    if (!m) return malformed("a history read");
    page.messages.push_back(std::move(*m));
  }
  return page;
}

// Entries one search request looks at, at most: a search of a long room
// answers `truncated` with `next`, and the client searches on from there.
constexpr std::size_t kSearchWindow = 1000;

const Error kOffLoop{Errc::Internal, "Redis history used off the event loops"};

// XRANGE / XREVRANGE bounds: the stream entry ids are "<msg_id>-0".
std::string id_bound(uint64_t id) {
  return std::to_string(id);
}

Result<SearchPage> search_page(redis::Reply reply, const std::string& needle, std::size_t limit) {
  SearchPage page;
  const std::size_t n = reply.size();
  std::size_t i = 0;
  for (; i < n && page.messages.size() < limit; ++i) {
    std::optional<Message> m = redis_codec::decode_entry(reply[i]);
    if (!m) return malformed("a search");
    page.next = m->id;
    Result<std::string> folded = unicode::casefold(m->text);
    if (folded && folded->find(needle) != std::string::npos) page.messages.push_back(std::move(*m));
  }
  // Older entries than the last looked at: those not looked at, or a full window.
  page.truncated = i < n || n == kSearchWindow;
  if (!page.truncated) page.next = 0;
  return page;
}

}  // namespace

RedisHistory::RedisHistory(std::vector<redis::Connection*> connections, Options options)
    : connections_(std::move(connections)),
      options_(std::move(options)),
      retain_(std::to_string(options_.retain_per_room)),
      retain_ms_(std::to_string(options_.retain_age.count() * 1000)),
      dedup_ttl_(std::to_string(std::max<int64_t>(1, options_.dedup_ttl.count()))) {
  options_.node = json_string(options_.node);
}

const std::vector<const redis::Script*>& RedisHistory::scripts() {
  static const std::vector<const redis::Script*> all{&kAppend};
  return all;
}

redis::Connection* RedisHistory::here() const {
  for (redis::Connection* c : connections_) {
    if (c->in_loop_thread()) return c;
  }
  return nullptr;
}

Status RedisHistory::health() const {
  for (redis::Connection* c : connections_) {
    if (!c->up()) return Error{Errc::Unavailable, "Redis is not connected"};
  }
  return {};
}

void RedisHistory::append(const std::string& room, const Message& message, AppendDone done) {
  if (!message.is_message() || message.reply.id != 0) {
    // The stream keeps messages only: a change would need its target's state
    // checked and rewritten in the same script (docs/SCALING.md, "Not yet").
    done(Error{Errc::Invalid,
               "the Redis engine does not keep edits, deletions, reactions or replies yet"});
    return;
  }
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  redis_codec::RoomKeys keys = redis_codec::keys_of(room);
  std::string dedup;
  std::array<std::string_view, 3> key_list{keys.seq, keys.log, {}};
  std::size_t nkeys = 2;
  if (!message.client_id.empty()) {
    dedup = redis_codec::dedup_key(keys, message.user, message.client_id);
    key_list[2] = dedup;
    nkeys = 3;
  }
  std::string body = redis_codec::encode_body(message);
  std::array<std::string_view, 6> args{retain_,      retain_ms_,    dedup_ttl_,
                                       keys.channel, options_.node, body};
  c->eval(kAppend, std::span(key_list.data(), nkeys), args,
          [done = std::move(done)](Result<redis::Reply> r) {
            if (!r) {
              done(std::move(r).error());
              return;
            }
            redis::Reply reply = *r;
            if (reply.size() != 3) {
              done(malformed("an append"));
              return;
            }
            done(Appended{static_cast<uint64_t>(reply[1].integer()), reply[2].integer(),
                          reply[0].integer() == 0});
          });
}

void RedisHistory::read(const std::string& room, const PageQuery& query, PageDone done) {
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  std::string log = redis_codec::keys_of(room).log;
  std::size_t limit = std::max<std::size_t>(1, query.limit);
  switch (query.from) {
    case PageQuery::From::Newest:
      read_older(*c, log, "+", limit, std::move(done));
      return;
    case PageQuery::From::Before:
      if (query.anchor <= 1) {
        done(Page{});
        return;
      }
      read_older(*c, log, id_bound(query.anchor - 1), limit, std::move(done));
      return;
    case PageQuery::From::After:
      read_newer(*c, log, query.anchor, limit, std::move(done));
      return;
    case PageQuery::From::Around:
      read_around(*c, log, query.anchor, limit, std::move(done));
      return;
  }
}

void RedisHistory::read_older(redis::Connection& c, const std::string& log, const std::string& from,
                              std::size_t limit, PageDone done) {
  std::string count = std::to_string(limit + 1);  // one more tells whether more exist
  c.command({"XREVRANGE", log, from, "-", "COUNT", count},
            [limit, done = std::move(done)](Result<redis::Reply> r) {
              if (!r) return done(std::move(r).error());
              done(page_of(*r, limit, true));
            });
}

void RedisHistory::read_newer(redis::Connection& c, const std::string& log, uint64_t anchor,
                              std::size_t limit, PageDone done) {
  std::string count = std::to_string(limit + 1);
  c.command({"XRANGE", log, id_bound(anchor + 1), "+", "COUNT", count},
            [limit, done = std::move(done)](Result<redis::Reply> r) {
              if (!r) return done(std::move(r).error());
              done(page_of(*r, limit, false));
            });
}

void RedisHistory::read_around(redis::Connection& c, const std::string& log, uint64_t anchor,
                               std::size_t limit, PageDone done) {
  // Two reads pipelined on one connection, answered in order: the older
  // half (anchor included), then the newer half.
  const std::size_t newer = limit / 2;
  auto page = std::make_shared<Result<Page>>(Page{});
  read_older(c, log, id_bound(anchor), limit - newer,
             [page](Result<Page> older) { *page = std::move(older); });
  std::string count = std::to_string(newer + 1);
  c.command({"XRANGE", log, id_bound(anchor + 1), "+", "COUNT", count},
            [page, newer, done = std::move(done)](Result<redis::Reply> r) {
              if (!*page) return done(std::move(*page));
              if (!r) return done(std::move(r).error());
              Result<Page> after = page_of(*r, newer, false);
              if (!after) return done(std::move(after));
              Page& p = **page;
              for (Message& m : after->messages) p.messages.push_back(std::move(m));
              p.newer = after->truncated;
              if (p.messages.empty()) p.truncated = false;
              done(std::move(p));
            });
}

void RedisHistory::search(const std::string& room, const SearchQuery& query, SearchDone done) {
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  Result<std::string> needle = unicode::casefold(query.text);
  if (!needle || needle->empty() || query.before == 1) {
    done(SearchPage{});
    return;
  }
  // A scan of the newest kSearchWindow entries below `before`, folded here:
  // Redis has no Unicode case folding, and the stream is the only copy.
  std::string from = query.before == 0 ? "+" : id_bound(query.before - 1);
  std::string count = std::to_string(kSearchWindow);
  c->command({"XREVRANGE", redis_codec::keys_of(room).log, from, "-", "COUNT", count},
             [needle = std::move(*needle), limit = std::max<std::size_t>(1, query.limit),
              done = std::move(done)](Result<redis::Reply> r) {
               if (!r) return done(std::move(r).error());
               done(search_page(*r, needle, limit));
             });
}

void RedisHistory::last_id(const std::string& room, LastIdDone done) {
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  c->command(
      {"GET", redis_codec::keys_of(room).seq}, [done = std::move(done)](Result<redis::Reply> r) {
        if (!r) {
          done(std::move(r).error());
          return;
        }
        uint64_t id = 0;
        std::string_view s = r->str();
        if (!r->is_nil() && std::from_chars(s.data(), s.data() + s.size(), id).ec != std::errc()) {
          done(malformed("a room's last id"));
          return;
        }
        done(id);
      });
}

}  // namespace parley::chat
