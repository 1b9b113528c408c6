// How the Redis engine lays a room out in Redis, and its wire format there.
//
// Keys of room R share the hash tag {R} (its hex when R holds a brace), so a
// Redis Cluster keeps a room on one shard and a script may touch all of them:
//   parley:{R}:seq          the last msg_id given out (INCR)
//   parley:{R}:log          the Stream of the room's entries (messages and
//                           changes); entry id "<msg_id>-0", fields ts (ms)
//                           and m (the entry as JSON)
//   parley:{R}:st           hash msg_id -> the state of a changed message
//                           (what its changes and the deletion of a message
//                           it quotes made of it), as JSON overrides
//   parley:{R}:rq           hash msg_id -> the ids of the replies quoting it
//   parley:{R}:sx           sorted set of the msg_ids with an st or rq field
//                           (score = msg_id), for retention to release them
//   parley:{R}:d:<user>:<client id>   "<msg_id> <ts>" of a stored message (dedup)
//   parley:{R}:ev           the pub/sub channel of the room's events
//   parley:{R}:p:<incarnation>  hash user -> connections on that node
//   parley:{R}:pu / :pn     hashes user -> connections on every node / name
//   parley:{R}:pt / :px     hashes name -> user (taken) / next suffix to try
//   parley:{R}:pc / :ps     the room's connections / last presence number
//   (chat/redis_presence.h)
//
// A stored message is the JSON object {"u":user,"f":from,"c":client_id,"t":text}
// plus, for a reply, the quote the append script took ("q":{"i","u","f","t","d"});
// a change is {"k":kind,"g":target,"u","f","c","t"} ("k" first: the read
// script tells changes by it) plus, for a reaction, "nr": the emoji's count
// after it. The event on the channel adds "id", "ts" and the origin node ("n")
// in front, so a node recognises (and skips) its own entries' echo.
//
// A message's state (st): {"t":text,"e":edited_ms,"d":1,"v":rev,
// "x":[[emoji,[user,...]],...],"q":1}, each key present only when it
// overrides the stored message ("q": the message it quotes was deleted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chat/message.h"
#include "chat/presence.h"
#include "store/redis/reply.h"

namespace parley::chat::redis_codec {

struct RoomKeys {
  std::string seq, log, channel, dedup_prefix;
  std::string state, replies, changed;  // st, rq, sx
  std::string base;                     // "parley:{R}:", for the presence keys
};
RoomKeys keys_of(std::string_view room);
std::string dedup_key(const RoomKeys& keys, std::string_view user, std::string_view client_id);

// The stored JSON of an entry (without id and ts, and without what the append
// script adds: a reply's quote, a reaction's count).
std::string encode_body(const Message& m);

// The one-letter kind of an entry in the append script and the stored JSON.
char kind_code(EntryKind kind);

// A stored message brought to its current state (the JSON of st); false when
// `state` is not such JSON.
bool apply_state(Message& m, std::string_view state);

// A reply's quote as the append script returns and stores it.
std::optional<Quote> decode_quote(std::string_view json);

// A message event as published on a room's channel.
struct Published {
  Message message;
  std::string node;  // the node whose home stored it
};
std::optional<Published> decode_published(std::string_view payload);

// A presence change as the presence scripts publish and return it:
// {"p":"j"|"l"|"r","s":seq,"u":user,"f":name,"o":old,"uc":n,"c":n,"k":n,"x":0|1}.
bool is_presence(std::string_view payload);
std::optional<PresenceChangeEvent> decode_presence(std::string_view payload);

// One entry of an XRANGE / XREVRANGE reply, with the state of the message
// ("" when it has none, or for a change).
std::optional<Message> decode_entry(redis::Reply entry, std::string_view state = {});

}  // namespace parley::chat::redis_codec
