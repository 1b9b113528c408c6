// The chat's view of one WebSocket connection (chat::ChatTransport), and the
// only place where chat output enters a connection: texts go to
// WebSocketPhase::deliver_text, which frames them (shared frames cached in the
// text's slots by ws::MessageEncoder) and applies the output limits; a close
// the chat asks for (abuse: 1008) starts the close handshake.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/shared_text.h"
#include "chat/chat_session.h"

namespace parley::app {

class WebSocketPhase;

class ChatLink final : public chat::ChatTransport {
 public:
  explicit ChatLink(WebSocketPhase& phase) : phase_(phase) {}

  void send_text(const SharedText& text, bool ephemeral) override;
  void close(uint16_t code, std::string_view reason) override;
  void refused(chat::Refused what) override;

 private:
  WebSocketPhase& phase_;
};

}  // namespace parley::app
