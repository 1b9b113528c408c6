// The Bus over Redis pub/sub (--redis): one subscriber connection per node,
// on one event loop, subscribed to the channel of every room open on this
// node (chat/redis_codec.h). Events this node published itself come back and
// are skipped: the room's home delivered them when they were stored.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "chat/bus.h"
#include "store/redis/subscriber.h"

namespace parley::chat {

class RedisBus final : public Bus, private redis::Subscriber::Handler {
 public:
  RedisBus(net::EventLoop& loop, redis::Connection::Options options, std::string node);
  ~RedisBus() override;

  void start();
  bool up() const { return subscriber_.up(); }

  void listen(BusListener& listener) override { listener_ = &listener; }
  void subscribe(const std::string& room) override;
  void unsubscribe(const std::string& room) override;
  void publish(const std::string&, const Message&) override {}

 private:
  void on_message(std::string_view channel, std::string_view payload) override;
  void on_subscribed(std::string_view channel) override;
  void set_wanted(const std::string& room, bool wanted);

  net::EventLoop& loop_;
  std::string node_;
  BusListener* listener_ = nullptr;
  redis::Subscriber subscriber_;
  std::unordered_map<std::string, std::string> rooms_;  // channel -> room; subscriber's loop
  std::shared_ptr<RedisBus*> self_;
};

}  // namespace parley::chat
