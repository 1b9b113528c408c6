// How the Redis engine lays a room out in Redis, and its wire format there.
//
// Keys of room R share the hash tag {R} (its hex when R holds a brace), so a
// Redis Cluster keeps a room on one shard and a script may touch all of them:
//   parley:{R}:seq          the last msg_id given out (INCR)
//   parley:{R}:log          the Stream of messages; entry id "<msg_id>-0",
//                           fields ts (ms) and m (the message as JSON)
//   parley:{R}:d:<user>:<client id>   "<msg_id> <ts>" of a stored message (dedup)
//   parley:{R}:ev           the pub/sub channel of the room's events
//   parley:{R}:p:<incarnation>  hash user -> connections on that node
//   parley:{R}:pu / :pn     hashes user -> connections on every node / name
//   parley:{R}:pt / :px     hashes name -> user (taken) / next suffix to try
//   parley:{R}:pc / :ps     the room's connections / last presence number
//   (chat/redis_presence.h)
//
// A stored message is the JSON object {"u":user,"f":from,"c":client_id,"t":text};
// its event on the channel adds "id", "ts" and the origin node ("n") in
// front, so a node recognises (and skips) its own messages' echo.
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
  std::string base;  // "parley:{R}:", for the presence keys
};
RoomKeys keys_of(std::string_view room);
std::string dedup_key(const RoomKeys& keys, std::string_view user, std::string_view client_id);

// The stored JSON of a message (without id and ts).
std::string encode_body(const Message& m);

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

// One entry of an XRANGE / XREVRANGE reply.
std::optional<Message> decode_entry(redis::Reply entry);

}  // namespace parley::chat::redis_codec
