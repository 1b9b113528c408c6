#include "store/redis/event_loop_adapter.h"

#include <hiredis/async.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <cassert>

namespace parley::redis {

EventLoopAdapter::~EventLoopAdapter() {
  detach();
}

void EventLoopAdapter::attach(redisAsyncContext* context) {
  detach();
  context_ = context;
  fd_ = context->c.fd;
  context->ev.data = this;
  context->ev.addRead = &EventLoopAdapter::add_read;
  context->ev.delRead = &EventLoopAdapter::del_read;
  context->ev.addWrite = &EventLoopAdapter::add_write;
  context->ev.delWrite = &EventLoopAdapter::del_write;
  context->ev.cleanup = &EventLoopAdapter::cleanup;
}

void EventLoopAdapter::detach() {
  if (registered_) loop_.remove(fd_);
  registered_ = reading_ = writing_ = false;
  if (context_ != nullptr) context_->ev.data = nullptr;
  context_ = nullptr;
  fd_ = -1;
}

void EventLoopAdapter::apply() {
  uint32_t events = (reading_ ? EPOLLIN : 0u) | (writing_ ? EPOLLOUT : 0u);
  if (!registered_) {
    if (events == 0) return;
    if (Status added = loop_.add(fd_, events, this); !added) {
      // Out of kernel memory or watches: the connection's command timeout
      // notices the silence and reconnects.
      spdlog::error("redis: cannot watch the connection: {}", added.error().message);
      return;
    }
    registered_ = true;
    return;
  }
  // Registered with no interest still reports errors and hang-ups; cheaper
  // than removing and adding again as hiredis toggles writes per command.
  Status modified = loop_.modify(fd_, events, this);
  assert(modified);  // fails only on a bug (a descriptor not registered)
  (void)modified;
}

void EventLoopAdapter::on_io(uint32_t events) {
  // Either call may free the context (a disconnect), which detaches us.
  if (context_ != nullptr && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    redisAsyncHandleRead(context_);
  }
  if (context_ != nullptr && (events & EPOLLOUT) != 0) redisAsyncHandleWrite(context_);
}

void EventLoopAdapter::add_read(void* self) {
  auto* a = static_cast<EventLoopAdapter*>(self);
  if (a->reading_) return;
  a->reading_ = true;
  a->apply();
}

void EventLoopAdapter::del_read(void* self) {
  auto* a = static_cast<EventLoopAdapter*>(self);
  if (!a->reading_) return;
  a->reading_ = false;
  a->apply();
}

void EventLoopAdapter::add_write(void* self) {
  auto* a = static_cast<EventLoopAdapter*>(self);
  if (a->writing_) return;
  a->writing_ = true;
  a->apply();
}

void EventLoopAdapter::del_write(void* self) {
  auto* a = static_cast<EventLoopAdapter*>(self);
  if (!a->writing_) return;
  a->writing_ = false;
  a->apply();
}

void EventLoopAdapter::cleanup(void* self) {
  if (self != nullptr) static_cast<EventLoopAdapter*>(self)->detach();
}

}  // namespace parley::redis
