#include "app/chat_link.h"

#include "app/websocket_phase.h"

namespace parley::app {

void ChatLink::send_text(const SharedText& text, bool ephemeral) {
  phase_.deliver_text(text, ephemeral);
}

void ChatLink::refused(chat::Refused what) {
  phase_.on_chat_refusal(what);
}

void ChatLink::close(uint16_t code, std::string_view reason) {
  phase_.close(code, reason);
}

}  // namespace parley::app
