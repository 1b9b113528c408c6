#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace parley::net {
namespace {

// The wake-up eventfd is registered with this tag instead of a handler.
IoHandler* const kWakeTag = nullptr;

Status epoll_control(int epoll_fd, int op, int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd, op, fd, &ev) < 0) {
    return Error::from_errno(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)", errno);
  }
  return {};
}

}  // namespace

EventLoop::EventLoop() : thread_id_(std::this_thread::get_id()), now_(Clock::now()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    int err = errno;
    close(epoll_fd_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  if (Status s = add(wake_fd_, EPOLLIN, kWakeTag); !s) {
    close(wake_fd_);
    close(epoll_fd_);
    throw std::system_error(s.error().sys_errno, std::generic_category(), s.error().message);
  }
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  PARLEY_ASSERT_LOOP_THREAD(*this);
  return epoll_control(epoll_fd_, EPOLL_CTL_ADD, fd, events, handler);
}

Status EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  PARLEY_ASSERT_LOOP_THREAD(*this);
  return epoll_control(epoll_fd_, EPOLL_CTL_MOD, fd, events, handler);
}

void EventLoop::remove(int fd) {
  PARLEY_ASSERT_LOOP_THREAD(*this);
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
  PARLEY_ASSERT_LOOP_THREAD(*this);
  return timers_.add(Clock::now() + delay, std::move(task));
}

void EventLoop::cancel(TimerId id) {
  PARLEY_ASSERT_LOOP_THREAD(*this);
  timers_.cancel(id);
}

void EventLoop::add_before_sleep(Task hook) {
  PARLEY_ASSERT_LOOP_THREAD(*this);
  before_sleep_.push_back(std::move(hook));
}

int EventLoop::wait_timeout_ms() const {
  if (!posted_.empty() || !ready_.empty() || !deferred_.empty() || !corked_.empty()) return 0;
  if (timers_.empty()) return -1;
  auto left = timers_.next_due() - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up so we never wake just before a timer is due and spin.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

void EventLoop::run_due_timers() {
  // Only timers due at the start of this iteration: one that re-arms itself
  // with no delay waits for the next iteration instead of starving the loop.
  Task task;
  while (timers_.pop_due(now_, task)) task();
}

Clock::duration EventLoop::posted_budget(Clock::duration io) {
  // A fixed 1 ms cut a saturated fan-out into about one message per
  // iteration, so one write per member per message: --threads 1 fell from
  // 4.6M to 0.7-1.4M deliveries per CPU-second (docs/BENCHMARKS.md).
  return std::max(kPostedBudget, io);
}

void EventLoop::drain_posted(Clock::duration budget) {
  {
    std::lock_guard lock(posted_mutex_);
    for (auto& t : posted_) ready_.push_back(std::move(t));
    posted_.clear();
  }
  const auto start = Clock::now();
  while (!ready_.empty()) {
    Task task = std::move(ready_.front());
    ready_.pop_front();
    task();
    if (budget != Clock::duration::zero() && Clock::now() - start >= budget) break;
  }
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
  // immediate, so the pointers stay valid while we walk the list. A flush
  // may cork another (a TLS stream encrypts into the TCP stream under it):
  // rounds until none is left, so that output too leaves before we sleep.
  // Two rounds with TLS, one without; the bound only guards against a bug.
  for (int round = 0; round < 4 && !corked_.empty(); ++round) {
    std::vector<Corked*> batch;
    batch.swap(corked_);
    for (Corked* c : batch) c->flush();
    if (corked_.empty()) {  // reuse the array: no allocation per iteration
      batch.clear();
      corked_.swap(batch);
    }
  }
}

void EventLoop::run_pending() {
  thread_id_ = std::this_thread::get_id();
  auto posted_left = [this] {
    std::lock_guard lock(posted_mutex_);
    return !posted_.empty();
  };
  for (int round = 0; round < 16 && (!deferred_.empty() || !ready_.empty() || posted_left());
       ++round) {
    run_deferred();
    drain_posted(Clock::duration::zero());
  }
  run_deferred();
}

void EventLoop::dispatch(void* tag, uint32_t events) {
  auto* handler = static_cast<IoHandler*>(tag);
  if (handler == kWakeTag) {
    uint64_t count;
    [[maybe_unused]] auto r = read(wake_fd_, &count, sizeof count);
    return;
  }
  handler->on_io(events);
}

void EventLoop::run() {
  thread_id_ = std::this_thread::get_id();
  stopping_ = false;  // a loop may run again after a stop
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    for (auto& hook : before_sleep_) hook();
    const Clock::time_point flush_start = Clock::now();
    flush_corked();
    const Clock::duration flushed = Clock::now() - flush_start;
    int timeout;
    {
      std::lock_guard lock(posted_mutex_);
      timeout = wait_timeout_ms();
    }
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) dispatch(events[i].data.ptr, events[i].events);
    run_deferred();
    drain_posted(posted_budget(flushed + (Clock::now() - now_)));
    run_due_timers();
    run_deferred();
  }
  for (auto& hook : before_sleep_) hook();
  flush_corked();
  run_deferred();
}

}  // namespace parley::net
