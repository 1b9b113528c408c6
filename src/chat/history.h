// The seam between the chat core and where messages are kept.
//
// A room's home (RoomHome) asks its History to store a message or read a page
// and carries on; the answer comes back later, on any thread, and the hub posts
// it to the room's home loop. Implementations: SqliteHistory (durable, the
// default), MemoryHistory (--history off, tests), and RedisHistory (--redis,
// shared by the nodes of a deployment).
//
// Every implementation keeps the same promises, which the chat's no-loss
// contract (docs/PROTOCOL.md) rests on:
// - ids are assigned per room, strictly increasing, when the message is stored;
// - `append` answers only once the message is as durable as the backend gets
//   (SQLite: committed), or with an Error and nothing stored;
// - a message whose (room, user, client_id) was stored before is not stored
//   again: the answer says `duplicate` and carries the original id and time;
// - pages are in ascending id order and `truncated` says the range asked for
//   holds more than was returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "chat/message.h"

namespace parley::chat {

struct Appended {
  uint64_t id = 0;
  int64_t ts_ms = 0;
  bool duplicate = false;  // stored before under this client id: id/ts_ms are the original's
};

struct Page {
  std::vector<Message> messages;  // ascending id
  bool truncated = false;         // more messages exist in the direction asked
};

// Which page of a room's history.
struct PageQuery {
  enum class From {
    Newest,  // the newest `limit` messages; truncated: older ones exist
    Before,  // the newest `limit` with id < anchor (scrolling up); truncated: older exist
    After,   // the OLDEST `limit` with id > anchor (catching up); truncated: newer exist
  };
  From from = From::Newest;
  uint64_t anchor = 0;
  std::size_t limit = 50;
};

class History {
 public:
  using AppendDone = std::function<void(Result<Appended>)>;
  using PageDone = std::function<void(Result<Page>)>;
  using LastIdDone = std::function<void(Result<uint64_t>)>;

  virtual ~History() = default;

  // Thread-safe. `done` runs once, on any thread (possibly before append
  // returns), and must not block. `message.id` and `message.ts_ms` are
  // assigned by the history; the rest is stored as given.
  virtual void append(const std::string& room, const Message& message, AppendDone done) = 0;
  // Thread-safe; `done` as for append.
  virtual void read(const std::string& room, const PageQuery& query, PageDone done) = 0;

  // The last id of every room that has one, for start-up.
  virtual std::vector<std::pair<std::string, uint64_t>> last_ids() const = 0;
  // Whether the history can serve now; the reason when it cannot.
  virtual Status health() const = 0;

  // Shared by several processes (the Redis engine): other nodes append to
  // the same rooms, so a room's last id is known only by asking (last_id),
  // and the hub opens a room once it has the answer. A local history knows
  // every last id from last_ids() and is never asked.
  virtual bool shared() const { return false; }
  // Thread-safe; `done` as for append.
  virtual void last_id(const std::string& room, LastIdDone done) {
    (void)room;
    done(Error{Errc::Internal, "last_id is only asked of a shared history"});
  }
};

}  // namespace parley::chat
