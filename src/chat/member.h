// A participant of chat rooms, as the chat layer sees it: something that can
// be handed an encoded frame. The WebSocket session implements it; the chat
// layer never sees sockets.
#pragma once

#include <memory>
#include <string>

namespace parley::chat {

// An encoded WebSocket frame, built once and shared by every recipient.
using SharedFrame = std::shared_ptr<const std::string>;

class Member {
 public:
  virtual void deliver(const SharedFrame& frame) = 0;

 protected:
  ~Member() = default;
};

}  // namespace parley::chat
