#include "chat/redis_bus.h"

#include <spdlog/spdlog.h>

#include "chat/redis_codec.h"

namespace parley::chat {

RedisBus::RedisBus(net::EventLoop& loop, redis::Connection::Options options, std::string node)
    : loop_(loop),
      node_(std::move(node)),
      subscriber_(loop, std::move(options), *this),
      self_(std::make_shared<RedisBus*>(this)) {}

RedisBus::~RedisBus() {
  self_.reset();
}

void RedisBus::start() {
  subscriber_.start();
}

void RedisBus::subscribe(const std::string& room) {
  std::weak_ptr<RedisBus*> self = self_;
  loop_.post([self, room] {
    if (auto s = self.lock()) (*s)->set_wanted(room, true);
  });
}

void RedisBus::unsubscribe(const std::string& room) {
  std::weak_ptr<RedisBus*> self = self_;
  loop_.post([self, room] {
    if (auto s = self.lock()) (*s)->set_wanted(room, false);
  });
}

void RedisBus::set_wanted(const std::string& room, bool wanted) {
  std::string channel = redis_codec::keys_of(room).channel;
  if (wanted) {
    rooms_[channel] = room;
    subscriber_.subscribe(std::move(channel));
  } else {
    // Events still on their way are dropped: the room is closed here.
    rooms_.erase(channel);
    subscriber_.unsubscribe(std::move(channel));
  }
}

void RedisBus::on_message(std::string_view channel, std::string_view payload) {
  auto room = rooms_.find(std::string(channel));
  if (room == rooms_.end() || listener_ == nullptr) return;
  if (redis_codec::is_presence(payload)) {
    std::optional<PresenceChangeEvent> change = redis_codec::decode_presence(payload);
    if (!change) {
      spdlog::warn("redis: a presence event of room {} could not be read; skipped", room->second);
      return;
    }
    listener_->on_bus_presence(room->second, std::move(*change));
    return;
  }
  std::optional<redis_codec::Published> event = redis_codec::decode_published(payload);
  if (!event) {
    spdlog::warn("redis: an event of room {} could not be read; skipped", room->second);
    return;
  }
  if (event->node == node_) return;  // our own, delivered when stored
  listener_->on_bus_message(room->second, std::move(event->message));
}

void RedisBus::on_subscribed(std::string_view channel) {
  auto room = rooms_.find(std::string(channel));
  if (room != rooms_.end() && listener_ != nullptr) listener_->on_bus_subscribed(room->second);
}

}  // namespace parley::chat
