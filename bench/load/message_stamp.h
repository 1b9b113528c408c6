// The header every bench message starts with: "PB<run>:<sender>:<seq>:<send_ns>:" then padding
// up to the requested size. Text, so any relaying server passes it through verbatim.
//
// <run> is random per bench run: a server that replays history on join (or a
// previous run's messages still in a room) cannot be mistaken for this run's
// traffic, and the server's own notices ("系统通知: ...") never start with "PB".
// Receivers parse only this header, never the padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

struct MessageStamp {
  uint32_t sender = 0;  // client index of the sender
  uint64_t seq = 0;     // per-sender sequence number, from 0
  int64_t send_ns = 0;  // steady clock at send time
};

class StampCodec {
 public:
  explicit StampCodec(uint32_t run_id);

  // Writes the payload for `stamp` padded with '.' to `size` bytes (longer when
  // the header itself does not fit in `size`). Reuses `out`'s capacity.
  void encode(const MessageStamp& stamp, std::size_t size, std::string& out) const;

  // The stamp of a message of this run; nullopt for anything else.
  std::optional<MessageStamp> decode(std::string_view payload) const;

  uint32_t run_id() const { return run_id_; }

 private:
  uint32_t run_id_;
  std::string prefix_;  // "PB<run hex>:"
};

}  // namespace parley::bench
