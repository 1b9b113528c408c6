// Accepts connections on a listening socket and hands each new fd to a callback.
#pragma once

#include <functional>

#include "base/result.h"
#include "net/event_loop.h"

namespace parley::net {

class Listener final : public IoHandler {
 public:
  using AcceptCallback = std::function<void(int fd)>;

  // Takes ownership of `listen_fd` (non-blocking).
  Listener(EventLoop& loop, int listen_fd, AcceptCallback on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Starts accepting (registers with the loop).
  Status start();

  // Stop accepting and close the socket (graceful shutdown).
  void close();

  void on_io(uint32_t events) override;

 private:
  void shed_one();

  EventLoop& loop_;
  int fd_;
  int reserve_fd_ = -1;
  AcceptCallback on_accept_;
};

}  // namespace parley::net
