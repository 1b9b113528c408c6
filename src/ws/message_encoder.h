// How one connection's outgoing messages are framed: plain, or compressed
// with permessage-deflate as negotiated (RFC 7692). Sans-I/O: frames out,
// written by the caller.
//
// Chat broadcasts arrive as parley::OutgoingText: one text for many
// recipients whose encodings are cached in slots, each built once by the
// first connection that needs it (on any loop) and shared by the others:
//   kPlainFrameSlot     the text frame, uncompressed;
//   kDeflatedFrameSlot  the text compressed on its own with a 32 KiB window
//                       (RSV1 set), or the plain frame again when
//                       compressing does not make it smaller.
// Which one a connection gets:
//   - no deflate, or a text shorter than Options::threshold: the plain frame;
//   - server_no_context_takeover agreed and a window that covers the text
//     (15 bits, or a text no longer than the window: a payload compressed on
//     its own never refers further back than its own length): the shared
//     compressed frame;
//   - otherwise (server context takeover, or a window smaller than the
//     text): compressed for this connection alone, a new frame per recipient.
// The default policy (DeflateOptions) always agrees to
// server_no_context_takeover, so a broadcast costs one compression whatever
// the number of recipients.
//
// Memory. Compressing without context uses one Deflater per thread (that is,
// per event loop) and window size, created on first use: 256 KiB for 15 bits
// at memLevel 8, plus a scratch buffer for the output of the largest recent
// message (released when over 64 KiB). Only server context takeover gives a
// connection its own Deflater: window 2^kContextWindowBits (whatever larger
// window was agreed: a compressor may always use less) and memLevel
// kContextMemLevel, 2^14 + 2^14 bytes + ~6 KiB of state, created at the first
// compressed message and freed by trim() when the connection is idle (the
// peer keeps its window; our next message simply does not refer to it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/shared_text.h"
#include "ws/deflate.h"
#include "ws/deflate_negotiation.h"
#include "ws/frame_limits.h"
#include "ws/opcode.h"

namespace parley::ws {

inline constexpr std::size_t kPlainFrameSlot = 0;
inline constexpr std::size_t kDeflatedFrameSlot = 1;

inline constexpr uint8_t kContextWindowBits = 12;
inline constexpr int kContextMemLevel = 5;

class MessageEncoder {
 public:
  struct Options {
    // Messages shorter than this go uncompressed (see docs/SECURITY.md for
    // how it was chosen).
    std::size_t threshold = 128;
    int level = 6;  // zlib level, 1 (fastest) to 9 (smallest)
  };

  // Plain frames only (no permessage-deflate on this connection).
  MessageEncoder() = default;
  MessageEncoder(const DeflateParams& params, Options options);
  ~MessageEncoder();
  MessageEncoder(const MessageEncoder&) = delete;
  MessageEncoder& operator=(const MessageEncoder&) = delete;

  bool compressing() const { return params_.has_value(); }

  // The frame carrying `text` to this connection, shared with every other
  // connection that can use the same bytes (see above).
  SharedBytes frame_for(const OutgoingText& text);

  // One message for this connection only (an echo): its frame header and
  // payload, to be written one after the other. The views are valid until
  // the next call on this encoder or on this thread.
  struct Frame {
    std::string_view header;
    std::string_view payload;
  };
  Frame encode(Opcode op, std::string_view payload);

  // Frees this connection's compressor, if it has one (idle connection).
  void trim();

 private:
  bool keeps_context() const { return !params_->server_no_context_takeover; }
  // Window for compressing `size` bytes without context (see above).
  uint8_t stateless_window_bits(std::size_t size) const;
  // The deflated payload of `message` in a per-thread scratch buffer, or
  // nullopt to send it plain (compression failed, or did not pay).
  std::optional<std::string_view> deflate(std::string_view message);

  std::optional<DeflateParams> params_;
  Options options_;
  std::unique_ptr<Deflater> context_;  // only with server context takeover
  std::array<char, kMaxFrameHeaderSize> header_{};
};

}  // namespace parley::ws
