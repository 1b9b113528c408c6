// Immutable bytes shared by reference: one broadcast frame queued for many
// connections on any loop (the reference count is atomic, the bytes never
// change), so a fan-out costs a pointer per recipient, not a copy.
//
// OutgoingText is one text produced by the chat for many recipients. The chat
// knows nothing of wire formats; the transport that sends it caches its
// encodings here (a WebSocket frame, a compressed frame), each built once, by
// whichever recipient needs it first, and shared by all the others.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace parley {

using SharedBytes = std::shared_ptr<const std::string>;

inline SharedBytes make_shared_bytes(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

class OutgoingText {
 public:
  // Encodings a transport may cache; each transport names its own slots.
  static constexpr std::size_t kSlots = 4;

  explicit OutgoingText(std::string text) : text_(std::move(text)) {}
  OutgoingText(const OutgoingText&) = delete;
  OutgoingText& operator=(const OutgoingText&) = delete;

  std::string_view text() const { return text_; }

  // The encoding in `slot`, built by `make()` (returning SharedBytes) on first
  // use. Thread-safe: one caller builds, concurrent ones wait and share it.
  template <class Make>
  const SharedBytes& encoding(std::size_t slot, Make&& make) const {
    std::call_once(once_[slot], [&] { encodings_[slot] = std::forward<Make>(make)(); });
    return encodings_[slot];
  }

 private:
  std::string text_;
  mutable std::array<std::once_flag, kSlots> once_{};
  mutable std::array<SharedBytes, kSlots> encodings_{};
};

using SharedText = std::shared_ptr<const OutgoingText>;

inline SharedText make_shared_text(std::string text) {
  return std::make_shared<const OutgoingText>(std::move(text));
}

}  // namespace parley
