#include "store/redis/subscriber.h"

#include <hiredis/hiredis.h>

#include <array>

namespace parley::redis {
namespace {
constexpr std::size_t kBatch = 256;  // channels per SUBSCRIBE when resubscribing
}

Subscriber::Subscriber(net::EventLoop& loop, Connection::Options options, Handler& handler)
    : handler_(handler), connection_(loop, std::move(options)) {
  connection_.on_up([this] { on_up(); });
  connection_.on_down([this] { on_down(); });
}

Subscriber::~Subscriber() = default;

void Subscriber::start() {
  connection_.start();
}

void Subscriber::want(std::string name, bool wanted) {
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    if (!wanted) return;
    it = channels_.emplace(std::move(name), Channel{}).first;
  }
  it->second.wanted = wanted;
  reconcile(it->first);
}

void Subscriber::reconcile(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return;
  Channel& c = it->second;
  if (!connection_.up()) {
    if (!c.wanted && c.state == State::Off) channels_.erase(it);
    return;  // on_up subscribes what is wanted
  }
  if (c.wanted && c.state == State::Off) {
    std::array<std::string_view, 2> args{"SUBSCRIBE", name};
    if (connection_.subscription_command(args, &Subscriber::on_reply_thunk, this)) {
      c.state = State::Subscribing;
    }
  } else if (!c.wanted && c.state == State::On) {
    std::array<std::string_view, 2> args{"UNSUBSCRIBE", name};
    if (connection_.subscription_command(args, &Subscriber::on_reply_thunk, this)) {
      c.state = State::Unsubscribing;
    }
  } else if (!c.wanted && c.state == State::Off) {
    channels_.erase(it);
  }
}

void Subscriber::on_up() {
  std::vector<std::string_view> batch{"SUBSCRIBE"};
  auto flush = [&] {
    if (batch.size() > 1 &&
        connection_.subscription_command(batch, &Subscriber::on_reply_thunk, this)) {
      for (std::size_t i = 1; i < batch.size(); ++i) {
        channels_.find(std::string(batch[i]))->second.state = State::Subscribing;
      }
    }
    batch.resize(1);
  };
  std::vector<std::string> gone;
  for (auto& [name, c] : channels_) {
    if (!c.wanted) {
      gone.push_back(name);
      continue;
    }
    batch.push_back(name);
    if (batch.size() > kBatch) flush();
  }
  flush();
  for (const std::string& name : gone) channels_.erase(name);
}

void Subscriber::on_down() {
  for (auto& [name, c] : channels_) c.state = State::Off;
}

void Subscriber::on_reply_thunk(redisAsyncContext*, void* reply, void* privdata) {
  // No reply: the connection is going away (on_down follows or came first).
  if (reply != nullptr)
    static_cast<Subscriber*>(privdata)->on_reply(static_cast<redisReply*>(reply));
}

void Subscriber::on_reply(const redisReply* raw) {
  Reply reply(raw);
  if (reply.size() < 3) return;
  std::string_view kind = reply[0].str();
  std::string_view channel = reply[1].str();
  if (kind == "message") {
    handler_.on_message(channel, reply[2].str());
    return;
  }
  auto it = channels_.find(std::string(channel));
  if (it == channels_.end()) return;
  if (kind == "subscribe") {
    it->second.state = State::On;
    std::string name = it->first;
    if (it->second.wanted) handler_.on_subscribed(name);
    reconcile(name);
  } else if (kind == "unsubscribe") {
    it->second.state = State::Off;
    reconcile(std::string(channel));
  }
}

}  // namespace parley::redis
