// The seam between the chat core and where messages are kept.
//
// A room's home (RoomHome) asks its History to store a message or read a page
// and carries on; the answer comes back later, on any thread, and the hub posts
// it to the room's home loop. Implementations: SqliteHistory (durable, the
// default), MemoryHistory (--history off, tests), and RedisHistory (--redis,
// shared by the nodes of a deployment).
//
// A room's history is a log of entries (chat/message.h): messages and the
// changes of earlier messages, in one id sequence, plus the current state of
// each message. Every implementation keeps the same promises, which the
// chat's no-loss contract (docs/PROTOCOL.md) rests on:
// - ids are assigned per room, strictly increasing and without gaps, when an
//   entry is stored;
// - `append` answers only once the entry is as durable as the backend gets
//   (SQLite: committed), or with an Error and nothing stored;
// - an entry whose (room, user, client_id) was stored before is not stored
//   again: the answer says `duplicate` and carries the original id and time;
// - a change is checked against its target's state (chat/message_log.h) and
//   applied to it in the same step that stores it: a refused change is an
//   Error carrying the Refusal, a no-op one is answered `duplicate` with the
//   target's id and time, and in both cases nothing is stored;
// - a reply stores a quote of the message it answers, taken in that step,
//   and deleting a message empties the quotes of it;
// - pages are in ascending id order and `truncated` says the range asked for
//   holds more than was returned; messages come in their current state.
// - a message with a file (an attachment) is stored with it (RedisHistory
//   refuses one instead, Errc::Invalid: its file lives on one node); a delete
//   empties it, and retention (or a byte cap) removing the message tells
//   the file store, once the removal is final, that the message no longer
//   shows its file (MemoryHistory through chat::Attachments, SQLite through
//   store::HistoryStore::Options::files_dropped).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "chat/message.h"
#include "chat/message_log.h"

namespace parley::chat {

struct Appended {
  uint64_t id = 0;
  int64_t ts_ms = 0;
  // Nothing was stored: this client id was stored before (id/ts_ms are the
  // original entry's), or a reaction change had nothing to do (id/ts_ms are
  // the target message's).
  bool duplicate = false;
  Quote reply{};       // a stored reply: the quote of the message it answers
  uint32_t count = 0;  // a stored react/unreact: reactions with its emoji after it
};

struct Page {
  std::vector<Message> messages;  // ascending id
  bool truncated = false;         // more exist in the direction asked (Around: older)
  bool newer = false;             // Around: entries newer than the page exist
};

// Who a read is for (set by the room, not by the client): a History may
// share its reader between rooms and connections (`lane`: one per
// connection), and skip a read whose connection is gone (`cancelled` set
// before the read started; it then answers an Error with Errc::Closed).
// Both are hints: a History may ignore them (the memory one does).
struct ReadFor {
  uint64_t lane = 0;
  std::shared_ptr<const std::atomic<bool>> cancelled{};
};

// Which page of a room's history. Newest, Before and Around hold messages
// only, After every entry; `truncated` (older) means an entry older than the
// first message returned is still stored (none returned: false).
struct PageQuery {
  enum class From {
    Newest,  // the newest `limit` messages; truncated: older entries exist
    Before,  // the newest `limit` messages with id < anchor (scrolling up)
    After,   // the OLDEST `limit` entries with id > anchor (catching up); truncated: newer exist
    Around,  // the newest limit - limit/2 messages with id <= anchor and the
             // oldest limit/2 with id > anchor (a message in context)
  };
  From from = From::Newest;
  uint64_t anchor = 0;
  std::size_t limit = 50;
  ReadFor reader{};
};

// A search of a room's messages by their current text (docs/PROTOCOL.md,
// "Search"): newest first, deleted ones never.
struct SearchQuery {
  std::string text;     // trimmed, 1-100 code points
  uint64_t before = 0;  // only ids below it; 0: from the newest
  std::size_t limit = 20;
  ReadFor reader{};
};

struct SearchPage {
  std::vector<Message> messages;  // newest first
  bool truncated = false;         // older matches may exist: search on before `next`
  uint64_t next = 0;              // the smallest id looked at
};

class History {
 public:
  using AppendDone = std::function<void(Result<Appended>)>;
  using PageDone = std::function<void(Result<Page>)>;
  using LastIdDone = std::function<void(Result<uint64_t>)>;
  using SearchDone = std::function<void(Result<SearchPage>)>;

  virtual ~History() = default;

  // Thread-safe. `done` runs once, on any thread (possibly before append
  // returns), and must not block. `entry.id` and `entry.ts_ms` are assigned
  // by the history (and a reply's quote, a reaction's count); the rest is
  // stored as given. A change is checked and applied under the ChangeRules
  // the history was built with.
  virtual void append(const std::string& room, const Message& entry, AppendDone done) = 0;
  // Thread-safe; `done` as for append.
  virtual void read(const std::string& room, const PageQuery& query, PageDone done) = 0;
  virtual void search(const std::string& room, const SearchQuery& query, SearchDone done) = 0;

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
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overriders keep `done`
  virtual void last_id(const std::string& room, LastIdDone done) {
    (void)room;
    done(Error{Errc::Internal, "last_id is only asked of a shared history"});
  }
};

}  // namespace parley::chat
