#include "ws/message_encoder.h"

#include <string>
#include <utility>

#include "ws/frame_writer.h"

namespace parley::ws {
namespace {

// A scratch buffer that grew past this is given back before the next use.
constexpr std::size_t kRetainedScratch = std::size_t{64} * 1024;

// Per thread, hence per event loop: compressors without context (one per
// window size, created on first use) and the output of the last compression.
struct ThreadDeflate {
  std::array<std::unique_ptr<Deflater>, kMaxWindowBits - kMinWindowBits + 1> stateless;
  std::string scratch;

  Deflater& deflater(uint8_t bits, int level) {
    std::unique_ptr<Deflater>& d = stateless[bits - kMinWindowBits];
    if (!d || d->settings().level != level) {
      d = std::make_unique<Deflater>(Deflater::Settings{.window_bits = bits, .level = level});
    }
    return *d;
  }
  std::string& fresh_scratch() {
    if (scratch.capacity() > kRetainedScratch) std::string().swap(scratch);
    scratch.clear();
    return scratch;
  }
};

ThreadDeflate& thread_deflate() {
  thread_local ThreadDeflate t;
  return t;
}

const SharedBytes& plain_frame(const OutgoingText& text) {
  return text.encoding(kPlainFrameSlot,
                       [&] { return make_shared_bytes(encode_frame(Opcode::Text, text.text())); });
}

}  // namespace

MessageEncoder::MessageEncoder(const DeflateParams& params, Options options)
    : params_(params), options_(options) {}

MessageEncoder::~MessageEncoder() = default;

uint8_t MessageEncoder::stateless_window_bits(std::size_t size) const {
  const uint8_t bits = params_->server_max_window_bits;
  return bits == kMaxWindowBits || size <= (std::size_t{1} << bits) ? kMaxWindowBits : bits;
}

std::optional<std::string_view> MessageEncoder::deflate(std::string_view message) {
  std::string& out = thread_deflate().fresh_scratch();
  if (keeps_context()) {
    if (!context_) {
      const auto bits = std::min(params_->server_max_window_bits, kContextWindowBits);
      context_ = std::make_unique<Deflater>(Deflater::Settings{
          .window_bits = bits, .mem_level = kContextMemLevel, .level = options_.level});
    }
    // Once compressed, the message is in our context: it must be sent
    // compressed even if that did not pay, or the peer's window would differ.
    if (!context_->compress(message, out, true)) return std::nullopt;
    return out;
  }
  Deflater& d = thread_deflate().deflater(stateless_window_bits(message.size()), options_.level);
  if (!d.compress(message, out, false) || out.size() >= message.size()) return std::nullopt;
  return out;
}

SharedBytes MessageEncoder::frame_for(const OutgoingText& text) {
  const std::string_view t = text.text();
  if (!compressing() || t.size() < options_.threshold) return plain_frame(text);
  if (!keeps_context() && stateless_window_bits(t.size()) == kMaxWindowBits) {
    return text.encoding(kDeflatedFrameSlot, [&] {
      const std::optional<std::string_view> deflated = deflate(t);
      if (!deflated) return plain_frame(text);
      return make_shared_bytes(encode_frame(Opcode::Text, *deflated, true, true));
    });
  }
  const std::optional<std::string_view> deflated = deflate(t);
  if (!deflated) return plain_frame(text);
  return make_shared_bytes(encode_frame(Opcode::Text, *deflated, true, true));
}

MessageEncoder::Frame MessageEncoder::encode(Opcode op, std::string_view payload) {
  std::optional<std::string_view> deflated;
  if (compressing() && payload.size() >= options_.threshold) deflated = deflate(payload);
  const std::string_view body = deflated ? *deflated : payload;
  const std::size_t n =
      write_frame_header(header_.data(), op, body.size(), true, nullptr, deflated.has_value());
  return {{header_.data(), n}, body};
}

void MessageEncoder::trim() {
  if (context_) context_->release();
}

}  // namespace parley::ws
