#include "chat/redis_history.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include "chat/redis_codec.h"
#include "chat/redis_log_scripts.h"
#include "store/redis/connection.h"
#include "text/unicode.h"

namespace parley::chat {
namespace {

std::string json_string(std::string_view s) {
  // Node ids are printable ASCII without quotes (checked at start-up).
  return "\"" + std::string(s) + "\"";
}

Error malformed(std::string_view what) {
  return Error{Errc::Corrupt, "Redis answered " + std::string(what) + " with an unexpected shape"};
}

// The read script's answer {flag, entries, states} as entries with their
// states merged, in the order Redis gave them.
Result<std::vector<Message>> entries_of(const redis::Reply& reply, bool& flag) {
  if (reply.size() != 3) return malformed("a history read");
  flag = reply[0].integer() != 0;
  redis::Reply entries = reply[1];
  redis::Reply states = reply[2];
  if (states.size() != entries.size()) return malformed("a history read");
  std::vector<Message> out;
  out.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::optional<Message> m = redis_codec::decode_entry(entries[i], states[i].str());
    if (!m) return malformed("a history read");
    out.push_back(std::move(*m));
  }
  return out;
}

Result<Page> page_of(const redis::Reply& reply, bool newest_first) {
  Page page;
  Result<std::vector<Message>> entries = entries_of(reply, page.truncated);
  if (!entries) return std::move(entries).error();
  page.messages = std::move(*entries);
  if (newest_first) std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

// Entries one search request looks at, at most: a search of a long room
// answers `truncated` with `next`, and the client searches on from there.
constexpr std::size_t kSearchWindow = 1000;

const Error kOffLoop{Errc::Internal, "Redis history used off the event loops"};

// An XRANGE / XREVRANGE bound that leaves `id` out (entry ids are "<msg_id>-0").
std::string exclusive(uint64_t id) {
  return "(" + std::to_string(id) + "-0";
}

Result<SearchPage> search_page(const redis::Reply& reply, const std::string& needle,
                               std::size_t limit) {
  SearchPage page;
  bool older = false;
  Result<std::vector<Message>> entries = entries_of(reply, older);
  if (!entries) return std::move(entries).error();
  const std::size_t n = entries->size();
  std::size_t i = 0;
  for (; i < n && page.messages.size() < limit; ++i) {
    Message& m = (*entries)[i];
    page.next = m.id;
    if (!m.is_message() || m.deleted) continue;
    Result<std::string> folded = unicode::casefold(m.text);
    if (folded && folded->find(needle) != std::string::npos) page.messages.push_back(std::move(m));
  }
  // Older entries than the last looked at: those not looked at, or beyond the window.
  page.truncated = i < n || older;
  if (!page.truncated) page.next = 0;
  return page;
}

// Keys and arguments as Connection::eval takes them.
struct Views {
  std::vector<std::string_view> keys, args;
  explicit Views(const redis_log::Call& call)
      : keys(call.keys.begin(), call.keys.end()), args(call.args.begin(), call.args.end()) {}
};

Result<Appended> appended_of(Result<redis::Reply> r) {
  if (!r) return std::move(r).error();
  const redis::Reply& reply = *r;
  if (reply.size() < 2) return malformed("an append");
  if (reply[0].integer() < 0) {
    const long long refusal = reply[1].integer();
    if (refusal < 1 || refusal > static_cast<long long>(Refusal::LimitReached)) {
      return malformed("an append");
    }
    return refusal_error(static_cast<Refusal>(refusal));
  }
  if (reply.size() < 3) return malformed("an append");
  Appended a{static_cast<uint64_t>(reply[1].integer()), reply[2].integer(),
             reply[0].integer() == 0};
  if (a.duplicate) return a;
  if (reply.size() != 5) return malformed("an append");
  a.count = static_cast<uint32_t>(reply[3].integer());
  if (!reply[4].str().empty()) {
    std::optional<Quote> quote = redis_codec::decode_quote(reply[4].str());
    if (!quote) return malformed("an append");
    a.reply = std::move(*quote);
  }
  return a;
}

}  // namespace

RedisHistory::RedisHistory(std::vector<redis::Connection*> connections, const Options& options)
    : connections_(std::move(connections)),
      settings_{json_string(options.node), options.retain_per_room,
                options.retain_age.count() * 1000, options.dedup_ttl.count(), options.rules} {}

const std::vector<const redis::Script*>& RedisHistory::scripts() {
  static const std::vector<const redis::Script*> all{&redis_log::append_script(),
                                                     &redis_log::read_script()};
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
  if (!message.attachment.empty()) {
    // Files are kept on the node they were uploaded to (docs/SCALING.md):
    // another node could not serve them.
    done(Error{Errc::Invalid, "the Redis engine does not keep attachments"});
    return;
  }
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  redis_log::Call call = redis_log::append_call(redis_codec::keys_of(room), message, settings_);
  Views v(call);
  c->eval(redis_log::append_script(), v.keys, v.args,
          [done = std::move(done)](Result<redis::Reply> r) { done(appended_of(std::move(r))); });
}

void RedisHistory::read(const std::string& room, const PageQuery& query, PageDone done) {
  redis::Connection* c = here();
  if (c == nullptr) {
    done(kOffLoop);
    return;
  }
  redis_codec::RoomKeys keys = redis_codec::keys_of(room);
  std::size_t limit = std::max<std::size_t>(1, query.limit);
  switch (query.from) {
    case PageQuery::From::Newest:
      read_page(*c, redis_log::read_call(keys, "m<", "+", limit), std::move(done));
      return;
    case PageQuery::From::Before:
      if (query.anchor <= 1) {
        done(Page{});
        return;
      }
      read_page(*c, redis_log::read_call(keys, "m<", exclusive(query.anchor), limit),
                std::move(done));
      return;
    case PageQuery::From::After:
      read_page(*c, redis_log::read_call(keys, "e>", exclusive(query.anchor), limit),
                std::move(done));
      return;
    case PageQuery::From::Around:
      read_around(*c, keys, query.anchor, limit, std::move(done));
      return;
  }
}

void RedisHistory::read_page(redis::Connection& c, const redis_log::Call& call, PageDone done) {
  Views v(call);
  const bool newest_first = call.args[0] == "m<";
  c.eval(redis_log::read_script(), v.keys, v.args,
         [newest_first, done = std::move(done)](Result<redis::Reply> r) {
           if (!r) return done(std::move(r).error());
           done(page_of(*r, newest_first));
         });
}

void RedisHistory::read_around(redis::Connection& c, const redis_codec::RoomKeys& keys,
                               uint64_t anchor, std::size_t limit, PageDone done) {
  // Two reads pipelined on one connection, answered in order: the older
  // half (anchor included), then the newer half.
  const std::size_t newer = limit / 2;
  auto page = std::make_shared<Result<Page>>(Page{});
  read_page(c, redis_log::read_call(keys, "m<", std::to_string(anchor), limit - newer),
            [page](Result<Page> older) { *page = std::move(older); });
  read_page(c, redis_log::read_call(keys, "m>", exclusive(anchor), newer),
            [page, done = std::move(done)](Result<Page> after) {
              if (!*page) return done(std::move(*page));
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
  std::string from = query.before == 0 ? "+" : exclusive(query.before);
  redis_log::Call call =
      redis_log::read_call(redis_codec::keys_of(room), "e<", std::move(from), kSearchWindow);
  Views v(call);
  c->eval(redis_log::read_script(), v.keys, v.args,
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
