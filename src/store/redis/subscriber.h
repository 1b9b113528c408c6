// One node's pub/sub connection: the channels it wants, kept subscribed
// across reconnections, and the messages that arrive on them.
//
// Each channel moves Off -> Subscribing -> On -> Unsubscribing -> Off, one
// command in flight per channel at a time: a subscribe asked for while its
// unsubscribe is still on the way waits for that answer. (hiredis 0.14 keys
// its subscription callbacks by channel name, and an unsubscribe answered
// after a newer subscribe was sent would delete the newer one's callback.)
// When the connection drops every channel is Off again; once it is back, all
// wanted channels are subscribed anew, a batch per command, and each
// confirmation reaches the handler (on_subscribed), which then catches up on
// what was published while it was not listening.
//
// Lives on one loop; loop thread only.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/redis/connection.h"

namespace parley::redis {

class Subscriber {
 public:
  class Handler {
   public:
    // On the subscriber's loop.
    virtual void on_message(std::string_view channel, std::string_view payload) = 0;
    virtual void on_subscribed(std::string_view channel) = 0;

   protected:
    ~Handler() = default;
  };

  Subscriber(net::EventLoop& loop, Connection::Options options, Handler& handler);
  ~Subscriber();

  void start();
  void subscribe(std::string channel) { want(std::move(channel), true); }
  void unsubscribe(std::string channel) { want(std::move(channel), false); }
  bool up() const { return connection_.up(); }

 private:
  enum class State { Off, Subscribing, On, Unsubscribing };
  struct Channel {
    bool wanted = false;
    State state = State::Off;
  };

  void want(std::string channel, bool wanted);
  void reconcile(const std::string& name);
  void on_up();
  void on_down();
  void on_reply(const struct redisReply* reply);
  static void on_reply_thunk(redisAsyncContext*, void* reply, void* privdata);

  Handler& handler_;
  Connection connection_;
  std::unordered_map<std::string, Channel> channels_;
};

}  // namespace parley::redis
