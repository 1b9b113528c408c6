#include "ws/endpoint.h"

#include <algorithm>

#include "ws/close_code.h"
#include "ws/deflate.h"
#include "ws/frame_writer.h"
#include "ws/mask.h"

namespace parley::ws {
namespace {

// A message buffer that grew beyond this is freed once the message is
// delivered, so a connection that once received a big message does not keep
// the memory while idle; smaller ones are kept to avoid churn on fragmented
// traffic.
constexpr std::size_t kRetainedBufferCapacity = 4096;

// What a compressed message may take on the wire: its inflated size is what
// max_message_size bounds, and deflate expands incompressible data by a few
// bytes per block, far less than this allowance of 1/8.
std::size_t compressed_wire_limit(std::size_t max_message_size) {
  const std::size_t extra = max_message_size / 8 + 1024;
  return max_message_size > SIZE_MAX - extra ? SIZE_MAX : max_message_size + extra;
}

}  // namespace

Endpoint::Endpoint(Role role, Limits limits, Handler& handler)
    : handler_(handler), limits_(limits), role_(role), parser_(role) {}

Endpoint::~Endpoint() = default;

void Endpoint::enable_deflate(const DeflateParams& params) {
  parser_.set_rsv1_allowed(true);
  // We inflate what the other side compresses.
  const bool peer_is_client = role_ == Role::Server;
  inflate_keeps_context_ =
      !(peer_is_client ? params.client_no_context_takeover : params.server_no_context_takeover);
  const uint8_t bits =
      peer_is_client ? params.client_max_window_bits : params.server_max_window_bits;
  // A peer held to 256 bytes may well use zlib, which compresses "8" with a
  // 512-byte window. Inflating with a larger window than the peer's is always
  // correct, so allow it 9.
  inflate_window_bits_ = std::max<uint8_t>(bits, 9);
}

void Endpoint::trim() {
  if (in_message_) return;
  std::string().swap(message_buffer_);
  if (!inflate_keeps_context_) inflater_.reset();
}

std::size_t Endpoint::feed(std::span<char> bytes) {
  const std::size_t total = bytes.size();
  while (state_ != State::Closed) {
    const FrameParser::Step step = parser_.next(bytes);
    bytes = bytes.subspan(step.consumed);
    switch (step.event) {
      case FrameParser::Event::NeedMore:
        return total;
      case FrameParser::Event::Error:
        fail(parser_.error_code(), parser_.error_reason());
        return total;
      case FrameParser::Event::Header:
        if (!on_frame_header(parser_.header())) return total;
        break;
      case FrameParser::Event::Payload:
        if (!on_frame_payload(step.payload, step.frame_complete)) return total;
        // The inflate allowance is checked between pieces, where the parser
        // can stop and resume anywhere.
        if (inflate_allowance_spent()) return total - bytes.size();
        break;
    }
  }
  return total;
}

void Endpoint::close(uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  // Change state first: send() may re-enter close(), which must be a no-op.
  // The message buffer is left alone: on_message may be running with a view
  // into it. It is dropped by the next frame header or by finish().
  state_ = State::Closing;
  if (is_valid_received_close_code(code)) {
    send_control(Opcode::Close, make_close_payload(code, reason).view());
  } else {
    send_control(Opcode::Close, {});
  }
}

bool Endpoint::on_frame_header(const FrameHeader& header) {
  frame_opcode_ = header.opcode;
  frame_fin_ = header.fin;
  control_size_ = 0;

  if (state_ == State::Closing) {
    frame_ignored_ = header.opcode != Opcode::Close;
    if (in_message_) {
      in_message_ = false;
      release_message_buffer();
    }
    return true;
  }
  frame_ignored_ = false;
  if (is_control(header.opcode)) return true;

  if (header.opcode == Opcode::Continuation) {
    if (!in_message_)
      return fail(close_code::ProtocolError, "continuation frame without a message");
  } else {
    if (in_message_) {
      return fail(close_code::ProtocolError, "new message before the fragmented one ended");
    }
    in_message_ = true;
    message_opcode_ = header.opcode;
    message_size_ = 0;
    message_compressed_ = header.rsv1;
    message_refused_ = false;
    utf8_.reset();
  }
  const std::size_t limit = message_compressed_ ? compressed_wire_limit(limits_.max_message_size)
                                                : limits_.max_message_size;
  // message_size_ never exceeds the limit, so the subtraction cannot wrap.
  if (header.payload_length > limit - message_size_) {
    return fail(close_code::MessageTooBig, "message too big");
  }
  message_size_ += static_cast<std::size_t>(header.payload_length);
  // An uncompressed message is known to be too long from its headers alone.
  if (!message_compressed_ && !message_refused_ && message_size_ > limits_.refuse_above) {
    refuse_message();
  }
  return true;
}

bool Endpoint::on_frame_payload(std::span<char> piece, bool frame_complete) {
  if (frame_ignored_) return true;
  const std::string_view bytes(piece.data(), piece.size());
  if (!is_control(frame_opcode_)) return on_data_payload(bytes, frame_complete);

  // Control frames are at most 125 bytes; a whole one in a single piece is
  // used where it lies (pieces are only empty for empty frames).
  if (frame_complete && control_size_ == 0) return on_control_frame(bytes);
  if (!control_buffer_)
    control_buffer_ = std::make_unique_for_overwrite<char[]>(kMaxControlPayload);
  std::copy(bytes.begin(), bytes.end(), control_buffer_.get() + control_size_);
  control_size_ = static_cast<uint8_t>(control_size_ + bytes.size());
  if (!frame_complete) return true;
  // Moved out first: on_control_frame may end the endpoint's turn.
  const std::unique_ptr<char[]> buffer = std::move(control_buffer_);
  return on_control_frame({buffer.get(), control_size_});
}

bool Endpoint::on_data_payload(std::string_view piece, bool frame_complete) {
  if (message_refused_) return on_refused_payload(piece, frame_complete);
  if (message_compressed_) return on_compressed_payload(piece, frame_complete);
  const bool message_complete = frame_complete && frame_fin_;
  if (!check_text(piece, message_complete)) return false;

  // Fast path: nothing gathered yet, so this piece is the whole message.
  if (message_complete && message_buffer_.empty()) {
    in_message_ = false;
    handler_.on_message(message_opcode_, piece);
    return true;
  }

  message_buffer_.append(piece);
  if (!message_complete) return true;
  return deliver_buffered_message();
}

bool Endpoint::on_compressed_payload(std::string_view piece, bool frame_complete) {
  if (!inflater_) inflater_ = std::make_unique<Inflater>(inflate_window_bits_);
  const std::size_t before = message_buffer_.size();
  const bool message_complete = frame_complete && frame_fin_;
  const std::size_t limit = std::min(limits_.max_message_size, limits_.refuse_above);
  Inflater::Status status = inflater_->inflate(piece, message_buffer_, limit);
  if (status == Inflater::Status::Ok && message_complete) {
    status = inflater_->finish_message(message_buffer_, limit, inflate_keeps_context_);
  }
  inflated_bytes_ += message_buffer_.size() - before;
  switch (status) {
    case Inflater::Status::Ok:
      break;
    case Inflater::Status::TooBig:
      // Past refuse_above the message is skipped, unless the peer's next
      // message may refer back into the part we would not inflate.
      if (limits_.refuse_above < limits_.max_message_size && !inflate_keeps_context_) {
        refuse_message();
        return on_refused_payload({}, frame_complete);
      }
      return fail(close_code::MessageTooBig, "message too big");
    case Inflater::Status::Corrupt:
      return fail(close_code::InvalidPayload, "invalid compressed data");
    case Inflater::Status::NoMemory:
      return fail(close_code::InternalError, "out of memory");
  }
  const std::string_view inflated = std::string_view(message_buffer_).substr(before);
  if (!check_text(inflated, message_complete)) return false;
  if (!message_complete) return true;
  return deliver_buffered_message();
}

void Endpoint::refuse_message() {
  message_refused_ = true;
  release_message_buffer();
  // Only reached without context takeover, where each compressed message
  // starts a fresh DEFLATE stream: forget the part inflated.
  if (message_compressed_ && inflater_) inflater_->reset();
}

bool Endpoint::on_refused_payload(std::string_view piece, bool frame_complete) {
  const bool message_complete = frame_complete && frame_fin_;
  // Uncompressed text is still checked (RFC 6455 §8.1: invalid UTF-8 fails
  // the connection); it costs no memory. Compressed bytes are not inflated.
  if (!message_compressed_ && !check_text(piece, message_complete)) return false;
  if (!message_complete) return true;
  in_message_ = false;
  message_refused_ = false;
  handler_.on_refused(message_opcode_);
  return true;
}

bool Endpoint::check_text(std::string_view piece, bool message_complete) {
  if (message_opcode_ != Opcode::Text) return true;
  // Validate as bytes arrive so invalid text fails before the message ends.
  if (!utf8_.feed(piece)) return fail(close_code::InvalidPayload, "invalid UTF-8 in text message");
  if (message_complete && !utf8_.complete()) {
    return fail(close_code::InvalidPayload, "text message ends inside a UTF-8 sequence");
  }
  return true;
}

bool Endpoint::deliver_buffered_message() {
  in_message_ = false;
  handler_.on_message(message_opcode_, message_buffer_);
  // Only now, after on_message returned, is the buffer no longer viewed.
  release_message_buffer();
  return true;
}

bool Endpoint::on_control_frame(std::string_view payload) {
  switch (frame_opcode_) {
    case Opcode::Ping:
      send_control(Opcode::Pong, payload);
      handler_.on_ping(payload);
      return true;
    case Opcode::Pong:
      handler_.on_pong(payload);
      return true;
    case Opcode::Close:
      return on_close_frame(payload);
    default:
      return true;  // unreachable: the parser only reports control opcodes here
  }
}

bool Endpoint::on_close_frame(std::string_view payload) {
  if (payload.size() == 1) return fail(close_code::ProtocolError, "close frame of 1 byte");
  uint16_t code = close_code::NoStatus;
  std::string_view reason;
  if (payload.size() >= 2) {
    code = static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                 static_cast<unsigned char>(payload[1]));
    reason = payload.substr(2);
    if (!is_valid_received_close_code(code)) {
      return fail(close_code::ProtocolError, "invalid close code");
    }
    if (!is_valid_utf8(reason)) {
      return fail(close_code::InvalidPayload, "invalid UTF-8 in close reason");
    }
  }
  if (state_ == State::Open) {
    // Echo the peer's code (§5.5.1); an empty Close is answered with an empty one.
    if (code == close_code::NoStatus) {
      send_control(Opcode::Close, {});
    } else {
      send_control(Opcode::Close, make_close_payload(code, {}).view());
    }
  }
  return finish(code, reason);
}

bool Endpoint::fail(uint16_t code, std::string_view reason) {
  failed_with_ = code;
  // In Closing our Close frame is already out; a second one is not allowed.
  if (state_ == State::Open) {
    state_ = State::Closing;
    send_control(Opcode::Close, make_close_payload(code, reason).view());
  }
  return finish(code, reason);
}

bool Endpoint::finish(uint16_t code, std::string_view reason) {
  state_ = State::Closed;
  in_message_ = false;
  release_message_buffer();
  inflater_.reset();
  handler_.on_close(code, reason);
  return false;  // *this may be gone: callers return without touching it
}

void Endpoint::send_control(Opcode op, std::string_view payload) {
  // Control payloads are at most 125 bytes, so the frame fits on the stack.
  std::array<char, kMaxFrameHeaderSize + kMaxControlPayload> frame;
  std::size_t header_size;
  if (role_ == Role::Server) {
    header_size = write_frame_header(frame.data(), op, payload.size(), true);
    std::copy(payload.begin(), payload.end(), frame.begin() + header_size);
  } else {
    const MaskKey mask = make_random_mask();
    header_size = write_frame_header(frame.data(), op, payload.size(), true, &mask);
    std::copy(payload.begin(), payload.end(), frame.begin() + header_size);
    apply_mask(frame.data() + header_size, payload.size(), mask);
  }
  handler_.send({frame.data(), header_size + payload.size()});
}

void Endpoint::release_message_buffer() {
  message_buffer_.clear();
  if (message_buffer_.capacity() > kRetainedBufferCapacity) std::string().swap(message_buffer_);
}

}  // namespace parley::ws
