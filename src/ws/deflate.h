// The permessage-deflate payload transforms (RFC 7692 §7.2) over zlib's raw
// DEFLATE, sans-I/O: bytes in, bytes out, never a socket.
//
// Deflater: one message -> its compressed payload. The message is
// sync-flushed (so it ends with an empty stored block, 00 00 ff ff) and those
// four bytes are removed (§7.2.1). Without context takeover the stream is
// reset after every message, so each payload stands alone and can be shared
// by every connection that agreed to server_no_context_takeover.
//
// Inflater: a message's compressed payload, piece by piece as frames arrive
// -> the message. The tail 00 00 ff ff is fed at the end of the message
// (§7.2.2). Output grows in bounded steps and never past the caller's limit:
// a "zip bomb" (a few KiB inflating to GiB) is stopped when the output would
// pass the limit, having cost at most the limit in memory and the CPU to
// produce that much.
//
// Memory (zlib's documented figures, zlib 1.2.13; docs/SECURITY.md has what
// a server connection costs, measured):
//   Deflater: 2^(window_bits+2) + 2^(mem_level+9) bytes plus ~6 KiB of
//             state, all allocated when the first message is compressed;
//   Inflater: ~7 KiB of state plus a 2^window_bits window, allocated at the
//             first piece that produces output.
// release() frees it all; a Deflater with context takeover may do so between
// messages too (a sender need not refer back), an Inflater only when the peer
// does not take over its context.
//
// A window of 8 bits (256 bytes) may be negotiated, but zlib refuses to
// compress raw DEFLATE with it; such a Deflater runs zlib with a 512-byte
// window and the Z_RLE strategy, whose matches are all at distance 1: the
// output is valid for any window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley::ws {

class Deflater {
 public:
  struct Settings {
    uint8_t window_bits = 15;  // 8..15, as negotiated
    int mem_level = 8;         // zlib's memLevel, 1..9: hash table size
    int level = 6;             // zlib's compression level, 1..9
  };

  explicit Deflater(Settings settings);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the permessage-deflate payload of `message` to `out`. With
  // `keep_context` the next message may refer back to this one (context
  // takeover); otherwise the stream is reset after it. False only if zlib
  // could not allocate its state (out is then unchanged): send uncompressed.
  bool compress(std::string_view message, std::string& out, bool keep_context);

  // Frees zlib's state; the next message starts a fresh stream.
  void release();
  bool holds_memory() const { return stream_ != nullptr; }
  const Settings& settings() const { return settings_; }

 private:
  struct Stream;
  Settings settings_;
  std::unique_ptr<Stream> stream_;
};

class Inflater {
 public:
  enum class Status : uint8_t {
    Ok,
    TooBig,   // the message would inflate past the limit
    Corrupt,  // not valid DEFLATE, or data after the final block
    NoMemory  // zlib could not allocate its state
  };

  explicit Inflater(uint8_t window_bits);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates the next piece of a message's compressed payload, appending to
  // `out`, which never grows past `limit` bytes (plus one, which is how
  // TooBig is detected). After an error the message is lost: call reset().
  Status inflate(std::string_view piece, std::string& out, std::size_t limit);

  // The message's payload is complete: inflates the §7.2.2 tail. With
  // `keep_context` the next message may refer back into this one (the peer
  // takes over its context); otherwise the stream restarts.
  Status finish_message(std::string& out, std::size_t limit, bool keep_context);

  // Forgets the message in progress (and the context).
  void reset();
  // Frees zlib's state; only between messages and without context takeover.
  void release();
  bool holds_memory() const { return stream_ != nullptr; }

 private:
  struct Stream;
  Status run(std::string_view input, std::string& out, std::size_t limit, bool is_tail);
  Status restart_keeping_window();

  uint8_t window_bits_;
  bool ended_ = false;  // the message's DEFLATE data had a final block
  std::unique_ptr<Stream> stream_;
};

}  // namespace parley::ws
