#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace parley::net {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

// The wake-up eventfd is registered with this tag instead of a handler.
IoHandler* const kWakeTag = nullptr;

}  // namespace

EventLoop::EventLoop() : thread_id_(std::this_thread::get_id()), now_(Clock::now()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fail("eventfd");
  add(wake_fd_, EPOLLIN, kWakeTag);
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl(ADD)");
}

void EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) fail("epoll_ctl(MOD)");
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

void EventLoop::post(Task task) {
  bool was_empty;
  {
    std::lock_guard lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(task));
  }
  // A non-empty queue already has a wake-up pending (the loop drains the whole
  // queue at once), so a burst of posts costs one eventfd write, not one each.
  if (!was_empty) return;
  uint64_t one = 1;
  // A full eventfd counter still means "wake up", so a failed write is harmless.
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

EventLoop::TimerId EventLoop::run_after(Clock::duration delay, Task task) {
  TimerId id = next_timer_id_++;
  timer_heap_.push(Timer{Clock::now() + delay, id});
  timer_tasks_.emplace_back(id, std::move(task));
  return id;
}

void EventLoop::cancel(TimerId id) {
  std::erase_if(timer_tasks_, [id](const auto& t) { return t.first == id; });
}

void EventLoop::add_before_sleep(Task hook) {
  before_sleep_.push_back(std::move(hook));
}

int EventLoop::wait_timeout_ms() const {
  if (!posted_.empty() || !deferred_.empty() || !corked_.empty()) return 0;
  if (timer_heap_.empty()) return -1;
  auto left = timer_heap_.top().due - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up so we never wake just before a timer is due and spin.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

void EventLoop::run_due_timers() {
  while (!timer_heap_.empty() && timer_heap_.top().due <= now_) {
    TimerId id = timer_heap_.top().id;
    timer_heap_.pop();
    auto it = std::find_if(timer_tasks_.begin(), timer_tasks_.end(),
                           [id](const auto& t) { return t.first == id; });
    if (it == timer_tasks_.end()) continue;  // cancelled
    Task task = std::move(it->second);
    timer_tasks_.erase(it);
    task();
  }
}

void EventLoop::drain_posted() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t();
}

void EventLoop::run_deferred() {
  // Deferred tasks may defer more (a destructor closing a peer): loop until empty.
  while (!deferred_.empty()) {
    std::vector<Task> tasks;
    tasks.swap(deferred_);
    for (auto& t : tasks) t();
  }
}

void EventLoop::flush_corked() {
  // flush() may close a connection whose destruction is deferred, never
  // immediate, so the pointers stay valid while we walk the list.
  std::vector<Corked*> batch;
  batch.swap(corked_);
  for (Corked* c : batch) c->flush();
  if (corked_.empty()) {  // reuse the array: no allocation per iteration
    batch.clear();
    corked_.swap(batch);
  }
}

void EventLoop::run_pending() {
  thread_id_ = std::this_thread::get_id();
  for (int round = 0; round < 16 && (!deferred_.empty() || !posted_.empty()); ++round) {
    run_deferred();
    drain_posted();
  }
  run_deferred();
}

void EventLoop::run() {
  thread_id_ = std::this_thread::get_id();
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    for (auto& hook : before_sleep_) hook();
    flush_corked();
    int timeout;
    {
      std::lock_guard lock(posted_mutex_);
      timeout = wait_timeout_ms();
    }
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
      if (handler == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] auto r = read(wake_fd_, &count, sizeof count);
        continue;
      }
      handler->on_io(events[i].events);
    }
    run_deferred();
    drain_posted();
    run_due_timers();
    run_deferred();
  }
  for (auto& hook : before_sleep_) hook();
  flush_corked();
  run_deferred();
}

}  // namespace parley::net
