// The chat's view of one event loop (chat/loop_port.h over net::EventLoop).
#pragma once

#include "chat/loop_port.h"
#include "net/event_loop.h"

namespace parley::app {

class EventLoopPort final : public chat::LoopPort {
 public:
  explicit EventLoopPort(net::EventLoop& loop) : loop_(loop) {}
  void post(Task task) override { loop_.post(std::move(task)); }
  void run_after(std::chrono::milliseconds delay, Task task) override {
    loop_.run_after(delay, std::move(task));
  }
  bool in_loop_thread() const override { return loop_.in_loop_thread(); }

 private:
  net::EventLoop& loop_;
};

}  // namespace parley::app
