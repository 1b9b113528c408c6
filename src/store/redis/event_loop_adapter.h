// hiredis' asynchronous API on a Parley event loop (no thread of its own).
//
// hiredis asks for read and write readiness through five hooks (addRead,
// delRead, addWrite, delWrite, cleanup); this adapter turns them into epoll
// registrations on a net::EventLoop and feeds readiness back into
// redisAsyncHandleRead / redisAsyncHandleWrite. It plays the part of
// hiredis' own adapters/libev.h, over the loop's stable API only: add,
// modify and remove a descriptor with an IoHandler.
//
// One adapter serves one connection for its whole life and is attached to
// each new context as the connection reconnects; hiredis' cleanup hook only
// detaches it, so a context freed while its read event is being handled
// leaves nothing dangling (the write half of the same event is skipped).
// Loop thread only.
#pragma once

#include <cstdint>

#include "net/event_loop.h"

struct redisAsyncContext;

namespace parley::redis {

class EventLoopAdapter final : public net::IoHandler {
 public:
  explicit EventLoopAdapter(net::EventLoop& loop) : loop_(loop) {}
  ~EventLoopAdapter();
  EventLoopAdapter(const EventLoopAdapter&) = delete;
  EventLoopAdapter& operator=(const EventLoopAdapter&) = delete;

  // Installs the hooks on `context` (a fresh one, its descriptor connecting).
  void attach(redisAsyncContext* context);
  bool attached() const { return context_ != nullptr; }

  void on_io(uint32_t events) override;

 private:
  static void add_read(void* self);
  static void del_read(void* self);
  static void add_write(void* self);
  static void del_write(void* self);
  static void cleanup(void* self);
  void apply();
  void detach();

  net::EventLoop& loop_;
  redisAsyncContext* context_ = nullptr;
  int fd_ = -1;
  bool reading_ = false;
  bool writing_ = false;
  bool registered_ = false;
};

}  // namespace parley::redis
