#include "chat/plain_text_session.h"

namespace parley::chat {

PlainTextSession::PlainTextSession(ChatHub& hub, uint32_t loop, ChatTransport& transport,
                                   std::string room, uint64_t guest_number)
    : ChatSession(hub, loop, transport),
      room_(std::move(room)),
      user_("guest-" + std::to_string(guest_number)) {}

void PlainTextSession::start() {
  add_room(room_);
  hub_.join(ref_, JoinRequest{room_, user_, user_, Protocol::PlainText, std::nullopt});
}

void PlainTextSession::on_text(std::string_view text) {
  // The seed has no notion of an ack or a client id: fire and forget.
  hub_.send(ref_, SendRequest{room_, user_, {}, std::string(text)});
}

}  // namespace parley::chat
