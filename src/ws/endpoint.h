// The per-connection WebSocket state machine (RFC 6455 §5-§7), sans-I/O.
//
// The transport feeds it the bytes it reads; the Endpoint parses frames,
// reassembles messages and answers the protocol itself (pong, close replies,
// error closes) through Handler::send(). It never touches a socket, a clock or
// a thread, so it is tested and fuzzed byte by byte.
//
// States:
//   Open    --close()-------------------> Closing  (our Close frame sent)
//   Open    --peer Close----------------> Closed   (Close echoed, on_close(peer code))
//   Open    --protocol error------------> Closed   (Close(error) sent, on_close(error))
//   Closing --peer Close / any error----> Closed   (nothing more sent, on_close)
// In Closing, data frames, pings and pongs are parsed and dropped; only the
// peer's Close matters. In Closed, every byte fed is ignored. on_close is
// called exactly once and is the Endpoint's last action: it does not touch
// itself afterwards, so the handler may destroy it from inside on_close.
//
// Messages: a Text/Binary frame with FIN is a message; without FIN it starts a
// fragmented one that Continuation frames extend until FIN. Control frames may
// come between fragments. Errors and the close codes sent:
//   1002 framing errors (see FrameParser), Continuation without a message,
//        Text/Binary while a fragmented message is in progress, a Close payload
//        of 1 byte or with an invalid code;
//   1007 Text that is not UTF-8 (checked as the bytes arrive, so it fails as
//        soon as the text cannot be valid), a Close reason that is not UTF-8,
//        compressed data that is not valid DEFLATE or goes on after its
//        final block;
//   1009 a message longer than Limits::max_message_size, detected from the
//        frame header before any of its payload is buffered; a compressed
//        message that inflates past it, detected while inflating;
//   1011 zlib could not allocate its state (out of memory).
//
// permessage-deflate (RFC 7692), once enable_deflate() is called: RSV1 on the
// first frame of a Text/Binary message marks it compressed (RSV1 anywhere
// else, or without deflate, is still 1002, as are RSV2/RSV3). Its payload is
// inflated piece by piece as it arrives, into the reassembly buffer, which
// never grows past max_message_size: a zip bomb closes with 1009 having cost
// at most that much memory. Text is validated as it is inflated. On the wire
// a compressed message may take max_message_size plus 1/8 (deflate's worst
// expansion is far less); nothing of it is buffered before inflating. The
// Inflater (~7 KiB + the window, see ws/deflate.h) exists from the first
// compressed message on; trim() frees it between messages when the peer
// does not take over its compression context.
//
// Zero-copy fast path: when a whole unfragmented, uncompressed frame is
// inside the span fed, it is unmasked in place and on_message gets a view
// into that span; nothing is copied or allocated. Otherwise the message is
// gathered (or inflated) in an internal buffer, which is released after a
// large message so idle connections hold almost nothing.
//
// Refused messages (Limits::refuse_above, set by the owner, e.g. a chat's
// text limit): a message over that size is not an error but is not read
// either. Its payload is skipped as it arrives (nothing buffered; a compressed
// one is inflated only until it passes the limit, the rest not at all;
// uncompressed text is still UTF-8 checked, which costs no memory), and at its
// end on_refused() is called instead of on_message(); the connection stays
// open. With context takeover the peer's next message may refer back into
// the skipped one, so there a compressed message past the limit closes 1009.
//
// Inflation budget (set_inflate_allowance): the owner may cap how many bytes
// are inflated; feed() then stops after the payload piece that passed the
// cap and returns how many input bytes it used. The caller feeds the rest
// later (e.g. after its per-second budget refills): a read full of small
// "zip bombs" is spread over time instead of holding the caller's loop. The
// overshoot is at most one piece's inflation (bounded by the message limit).
//
// Handler callbacks may call close() (for instance on_message deciding to
// close); they must not call feed() re-entrantly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ws/deflate_negotiation.h"
#include "ws/frame_limits.h"
#include "ws/frame_parser.h"
#include "ws/opcode.h"
#include "ws/role.h"
#include "ws/utf8.h"

namespace parley::ws {

class Inflater;

class Endpoint {
 public:
  using Role = ws::Role;
  enum class State { Open, Closing /* we sent Close, awaiting the peer's */, Closed };

  struct Limits {
    // Largest message (sum of its fragments) accepted; bigger fails with 1009.
    std::size_t max_message_size = 1 << 20;
    // Larger messages (inflated size, for compressed ones) are refused and
    // skipped: on_refused, the connection stays (see above). Only below
    // max_message_size; SIZE_MAX: never.
    std::size_t refuse_above = SIZE_MAX;
  };

  // Implemented by the connection/transport. Views passed to callbacks are
  // valid only during the call.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A complete Text (already UTF-8 validated) or Binary message.
    virtual void on_message(Opcode op, std::string_view payload) = 0;
    // A message over Limits::refuse_above ended; none of it is kept.
    virtual void on_refused(Opcode /*op*/) {}
    // The pong has already been sent through send().
    virtual void on_ping(std::string_view /*payload*/) {}
    virtual void on_pong(std::string_view /*payload*/) {}
    // Write these framed bytes to the peer.
    virtual void send(std::string_view frame_bytes) = 0;
    // The connection is finished: flush pending output, then close the
    // transport (a server closes TCP first, RFC 6455 §7.1.1). `code` is the
    // peer's code (1005 when its Close had none) or the error we closed with.
    virtual void on_close(uint16_t code, std::string_view reason) = 0;
  };

  Endpoint(Role role, Limits limits, Handler& handler);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Processes bytes read from the peer. Mutable so masked payload can be
  // unmasked in place. Ignored once Closed. Returns how many bytes were
  // used: all of them, unless the inflate allowance ran out first (the
  // caller then feeds the rest later, as they are: nothing of them was used).
  std::size_t feed(std::span<char> bytes);

  // Starts the close handshake (e.g. 1001 on shutdown): sends a Close frame and
  // enters Closing. Codes that may not be sent (1005, 1006, 1015, ...) produce
  // a Close frame without a status code. No-op unless Open.
  void close(uint16_t code, std::string_view reason = {});

  // permessage-deflate was negotiated with these parameters: from now on
  // RSV1 marks compressed messages. Call before the first feed().
  void enable_deflate(const DeflateParams& params);

  State state() const { return state_; }
  // The code of the error we closed with (1002, 1007, 1009, ...), 0 if none:
  // in on_close, tells our error from the peer's close.
  uint16_t failed_with() const { return failed_with_; }

  // feed() stops once inflated_bytes() passes `total` (see above); UINT64_MAX
  // (the default): no cap. inflated_bytes() counts every byte inflated.
  void set_inflate_allowance(uint64_t total) { inflate_allowance_ = total; }
  uint64_t inflated_bytes() const { return inflated_bytes_; }
  bool inflate_allowance_spent() const { return inflated_bytes_ > inflate_allowance_; }

  // Frees the reassembly buffer, and the Inflater when the peer does not
  // take over its context, when no message is in progress: called for idle
  // connections so they hold no buffers at all.
  void trim();

 private:
  // These return false once on_close has been called: the caller must then
  // return at once without touching *this.
  bool on_frame_header(const FrameHeader& header);
  bool on_frame_payload(std::span<char> piece, bool frame_complete);
  bool on_data_payload(std::string_view piece, bool frame_complete);
  bool on_compressed_payload(std::string_view piece, bool frame_complete);
  bool on_refused_payload(std::string_view piece, bool frame_complete);
  void refuse_message();
  bool check_text(std::string_view piece, bool message_complete);
  bool deliver_buffered_message();
  bool on_control_frame(std::string_view payload);
  bool on_close_frame(std::string_view payload);
  bool fail(uint16_t code, std::string_view reason);
  bool finish(uint16_t code, std::string_view reason);

  void send_control(Opcode op, std::string_view payload);
  void release_message_buffer();

  Handler& handler_;
  Limits limits_;
  Role role_;
  State state_ = State::Open;
  uint16_t failed_with_ = 0;
  FrameParser parser_;

  // Current frame.
  Opcode frame_opcode_ = Opcode::Continuation;
  bool frame_fin_ = false;
  bool frame_ignored_ = false;  // a frame that arrives while Closing

  // Current (possibly fragmented) data message.
  bool in_message_ = false;
  Opcode message_opcode_ = Opcode::Binary;
  std::size_t message_size_ = 0;     // sum of announced frame lengths so far
  bool message_compressed_ = false;  // RSV1 on its first frame
  bool message_refused_ = false;     // over refuse_above: skipped to its end
  Utf8Validator utf8_;
  std::string message_buffer_;

  // permessage-deflate, incoming side (see enable_deflate).
  bool inflate_keeps_context_ = false;  // the peer takes over its context
  uint8_t inflate_window_bits_ = kMaxWindowBits;
  std::unique_ptr<Inflater> inflater_;  // created at the first compressed message
  uint64_t inflated_bytes_ = 0;
  uint64_t inflate_allowance_ = UINT64_MAX;

  // A control frame whose payload arrived in pieces (at most 125 bytes):
  // allocated for that frame only and freed when it is complete, so that an
  // idle connection does not carry 125 unused bytes (docs/BENCHMARKS.md,
  // memory per connection).
  std::unique_ptr<char[]> control_buffer_;
  uint8_t control_size_ = 0;
};

}  // namespace parley::ws
