// The chat's view of one WebSocket connection (chat::ChatTransport), and the
// only place where chat output enters a connection: frames (or texts, framed
// here) go to WebSocketPhase::deliver, which applies the output limits; a
// close the chat asks for (abuse: 1008) starts the close handshake.
//
// Kept apart so that the chat's transport interface can change (texts
// instead of frames) in this one small file.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/shared_text.h"
#include "chat/chat_session.h"

namespace parley::app {

class WebSocketPhase;

class ChatLink final : public chat::ChatTransport {
 public:
  // The encoding slot of an OutgoingText that holds its plain WebSocket text
  // frame (shared by every recipient on every loop).
  static constexpr std::size_t kTextFrameSlot = 0;

  explicit ChatLink(WebSocketPhase& phase) : phase_(phase) {}

  // chat::ChatTransport
  void send_frame(const chat::SharedFrame& frame, bool ephemeral) override;
  void close(uint16_t code, std::string_view reason) override;

  // A text for this client: framed once for all recipients (slot 0), then
  // delivered like a frame.
  void send_text(const SharedText& text, bool ephemeral);

 private:
  WebSocketPhase& phase_;
};

}  // namespace parley::app
