#include "app/chat_link.h"

#include "app/websocket_phase.h"
#include "ws/frame_writer.h"

namespace parley::app {

void ChatLink::send_frame(const chat::SharedFrame& frame, bool ephemeral) {
  phase_.deliver(frame, ephemeral);
}

void ChatLink::send_text(const SharedText& text, bool ephemeral) {
  const SharedBytes& frame = text->encoding(kTextFrameSlot, [&text] {
    return make_shared_bytes(ws::encode_frame(ws::Opcode::Text, text->text()));
  });
  phase_.deliver(frame, ephemeral);
}

void ChatLink::close(uint16_t code, std::string_view reason) {
  phase_.close(code, reason);
}

}  // namespace parley::app
