// The Lua scripts of the Redis engine's room log (chat/redis_history.h), and
// the pure building of their keys and arguments (unit-tested).
//
// Append (one script for a message and for every change, so that the dedup
// check, the id, the stream, retention and the channel are one atomic step):
// 1. dedup: a client id stored before answers {0, msg_id, ts} of the original;
// 2. checks: a reply's target must be a message of the room (the script takes
//    its quote: author, name, first quote_chars code points of its current
//    text, deleted); a change is checked against its target's stored entry
//    and state with the rules of chat/message_log.h. A refusal answers
//    {-1, Refusal}; a no-op reaction {0, target id, target ts}. Nothing is
//    stored or published then, and no id is taken;
// 3. INCR seq, XADD the entry (MAXLEN, plus a few entries past their age),
//    rewrite the target's state (st) — a delete also marks the quotes of it
//    in the replies listed in rq — and release the st/rq fields of the
//    messages retention removed (sx);
// 4. set the dedup key, PUBLISH the event; answer {1, msg_id, ts, count,
//    quote JSON or ""}.
//
// Read: a page of the stream with the state of each message in it, in one
// step (so a page and its states are of the same moment). Modes:
//   "e>" every entry from `bound` up, at most `limit` (flag: more exist);
//   "e<" every entry from `bound` down, at most `limit` (flag: 0);
//   "m<" / "m>" messages only (changes skipped), from `bound` down / up, at
//        most `limit`; flag: an entry exists beyond the last message returned.
// Answers {flag, entries as XRANGE does, states ("" for none)}.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chat/message.h"
#include "chat/message_log.h"
#include "chat/redis_codec.h"
#include "store/redis/forward.h"

namespace parley::chat::redis_log {

const redis::Script& append_script();
const redis::Script& read_script();

struct AppendSettings {
  std::string node_json;  // this node's id as a JSON string
  std::size_t retain_per_room = 0;
  int64_t retain_ms = 0;
  int64_t dedup_ttl_s = 1;
  ChangeRules rules{};
};

struct Call {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

// The append script's keys (seq, log, st, rq, sx[, dedup]) and arguments.
Call append_call(const redis_codec::RoomKeys& keys, const Message& entry,
                 const AppendSettings& settings);

// The read script's keys (log, st) and arguments.
Call read_call(const redis_codec::RoomKeys& keys, std::string_view mode, std::string bound,
               std::size_t limit);

}  // namespace parley::chat::redis_log
