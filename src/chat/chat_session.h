// One WebSocket connection's part in the chat, whichever protocol it speaks.
// Sans-I/O: texts go out through a ChatTransport (which frames them), text
// comes in through on_text(); the rooms are reached through the ChatHub.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/shared_rate.h"
#include "chat/chat_hub.h"
#include "chat/member.h"

namespace parley::chat {

// What a session refused, for the connection to count and log
// (docs/SECURITY.md, "What is logged and counted").
enum class Refused : uint8_t {
  RateLimited,  // the connection's or its address's request rate
  ByteRate,     // the connection's or its address's byte rate
  TextTooLong,  // a text over --max-text-bytes
  RoomLimit,    // a room that could not be opened: --max-rooms
  kCount
};

// Implemented by the connection that owns the chat session.
class ChatTransport {
 public:
  // Queue a text message for the client; `ephemeral` ones (typing, presence)
  // may be shed for a client that is falling behind.
  virtual void send_text(const SharedText& text, bool ephemeral) = 0;
  // Close the connection with a WebSocket close code (ws/close_code.h).
  virtual void close(uint16_t code, std::string_view reason) = 0;
  // The session refused something of the client's (it has answered it).
  virtual void refused(Refused /*what*/) {}

 protected:
  ~ChatTransport() = default;
};

class ChatSession : public Member {
 public:
  ChatSession(ChatHub& hub, uint32_t loop, ChatTransport& transport);
  virtual ~ChatSession();
  ChatSession(const ChatSession&) = delete;
  ChatSession& operator=(const ChatSession&) = delete;

  // The connection is open (after the 101 went out).
  virtual void start() = 0;
  // A complete, UTF-8-valid text message from the client.
  virtual void on_text(std::string_view text) = 0;
  // A text message over the limit the connection reads (e.g. a plain-text
  // one over --max-text-bytes), skipped unread (and not inflated) by the
  // WebSocket layer: answered as a text over the limit would be.
  virtual void on_text_too_long() {}
  // Called periodically (the connection's sweep, a few times a second):
  // deadlines of the session itself, such as a token's expiry.
  virtual void tick() {}
  // The connection is closing: leaves every room (presence goes out now
  // rather than at destruction) and cancels work queued for it.
  void leave_all();

  // The request rate and the byte rate shared by every connection from this
  // client's address (docs/SECURITY.md, "Rates per address"); unset: no such
  // limit. They must outlive the session (the connection holds them).
  void share_rate_with_address(SharedRate* rate, SharedRate* bytes = nullptr) {
    address_rate_ = rate;
    address_bytes_ = bytes;
  }

  void deliver(const SharedText& text, bool ephemeral = false) override {
    transport_.send_text(text, ephemeral);
  }
  bool in_room(std::string_view room) const override;

 protected:
  void add_room(std::string room) { rooms_.push_back(std::move(room)); }
  void remove_room(std::string_view room);
  const std::vector<std::string>& rooms() const { return rooms_; }
  // A token from the address's shared rate (after the connection's own).
  bool address_allows(SharedRate::Clock::time_point now) {
    return address_rate_ == nullptr || address_rate_->take(now);
  }
  // `bytes` from the address's shared byte rate.
  bool address_allows_bytes(SharedRate::Clock::time_point now, std::size_t bytes) {
    return address_bytes_ == nullptr || address_bytes_->take(now, bytes);
  }

  ChatHub& hub_;
  ChatTransport& transport_;
  MemberRef ref_;

 private:
  std::vector<std::string> rooms_;
  SharedRate* address_rate_ = nullptr;
  SharedRate* address_bytes_ = nullptr;
};

}  // namespace parley::chat
