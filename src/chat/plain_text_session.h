// The seed's protocol: a connection to /wss or /ws/<room> without a
// subprotocol is in exactly that room; each text message goes verbatim to the
// others; joins and leaves are announced in the seed's words.
#pragma once

#include "chat/chat_session.h"

namespace parley::chat {

class PlainTextSession final : public ChatSession {
 public:
  // `guest_number` names the connection "guest-<n>" for JSON members.
  PlainTextSession(ChatHub& hub, uint32_t loop, ChatTransport& transport, std::string room,
                   uint64_t guest_number);

  Protocol protocol() const override { return Protocol::PlainText; }
  void start() override;
  void on_text(std::string_view text) override;

 private:
  std::string room_;
  std::string user_;
};

}  // namespace parley::chat
