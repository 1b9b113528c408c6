#include "support/memory_stream.h"

#include <algorithm>
#include <cassert>

namespace parley::testing {

MemoryPeer::MemoryPeer(Options options) : options_(options) {}

MemoryPeer::~MemoryPeer() {
  if (stream_ != nullptr) stream_->peer_ = nullptr;
}

std::unique_ptr<net::Stream> MemoryPeer::make_stream() {
  assert(stream_ == nullptr);
  auto stream = std::make_unique<MemoryStream>(*this);
  stream_ = stream.get();
  return stream;
}

bool MemoryPeer::step_fails() {
  ++steps_;
  if (options_.fail_at == 0 || steps_ != options_.fail_at) return false;
  failed_ = true;
  return true;
}

net::Stream::State MemoryPeer::server_state() const {
  return stream_ != nullptr ? stream_->state() : net::Stream::State::Closed;
}

std::size_t MemoryPeer::server_pending() const {
  return stream_ != nullptr ? stream_->pending_bytes() : 0;
}

void MemoryPeer::write(std::string_view bytes) {
  inbound_.append(bytes);
  deliver();
}

void MemoryPeer::deliver() {
  MemoryStream* s = stream_;
  // Re-entered from inside on_data (a handler that makes the peer write):
  // the outer call hands the bytes on.
  if (s == nullptr || s->delivering_) return;
  s->delivering_ = true;
  while (stream_ == s && !inbound_.empty() && s->handler_ != nullptr) {
    if (s->state_ == net::Stream::State::Closed) break;
    bool reading = s->state_ != net::Stream::State::Open || !s->paused_;
    if (!reading) break;
    std::size_t n = std::min(inbound_.size(), options_.max_read);
    std::string chunk = inbound_.substr(0, n);
    inbound_.erase(0, n);
    if (step_fails()) {
      s->fail();
      break;
    }
    // Draining or lingering: input is read and discarded.
    if (s->state_ == net::Stream::State::Open) s->handler_->on_data({chunk.data(), chunk.size()});
  }
  if (stream_ != s) return;
  s->delivering_ = false;
  // Our FIN arrives after the bytes before it were read.
  if (peer_closed_ && inbound_.empty()) s->close(/*reset=*/false);
}

void MemoryPeer::pump() {
  MemoryStream* s = stream_;
  if (s == nullptr || s->state_ == net::Stream::State::Closed) return;
  bool wrote = false;
  while (s->pending_ > 0 && wire_.size() < options_.window) {
    std::string& front = s->queue_.front();
    std::size_t n = std::min(front.size() - s->front_offset_, options_.window - wire_.size());
    if (step_fails()) {
      s->fail();
      return;
    }
    wire_.append(front, s->front_offset_, n);
    s->front_offset_ += n;
    s->pending_ -= n;
    wrote = true;
    if (s->front_offset_ == front.size()) {
      s->queue_.pop_front();
      s->front_offset_ = 0;
    }
  }
  if (wrote || s->pending_ == 0) s->after_write();
}

std::string MemoryPeer::read() {
  pump();
  std::string out;
  out.swap(wire_);
  pump();
  return out;
}

void MemoryPeer::close() {
  peer_closed_ = true;
  deliver();  // what we wrote before the FIN is read first, then the FIN
}

void MemoryPeer::reset() {
  peer_closed_ = true;
  inbound_.clear();
  if (stream_ != nullptr) stream_->close(/*reset=*/false);
}

void MemoryPeer::expire_linger() {
  if (stream_ != nullptr && stream_->state_ == net::Stream::State::Lingering) {
    stream_->close(/*reset=*/false);
  }
}

MemoryStream::~MemoryStream() {
  if (peer_ != nullptr) peer_->stream_ = nullptr;
}

Status MemoryStream::start(Handler& handler) {
  handler_ = &handler;
  if (peer_ != nullptr && peer_->step_fails()) {
    state_ = State::Closed;  // as if the socket could not be watched: no callback
    return Error(Errc::Io, "injected failure: start");
  }
  if (peer_ != nullptr) peer_->deliver();
  return {};
}

void MemoryStream::send(std::string_view bytes) {
  if (state_ != State::Open || bytes.empty()) return;
  queue_.emplace_back(bytes);
  pending_ += bytes.size();
}

void MemoryStream::send(SharedBytes bytes) {
  if (bytes) send(std::string_view(*bytes));
}

std::size_t MemoryStream::drop_unstarted_output() {
  std::size_t keep = front_offset_ > 0 ? 1 : 0;
  std::size_t dropped = 0;
  while (queue_.size() > keep) {
    dropped += queue_.back().size();
    queue_.pop_back();
  }
  pending_ -= dropped;
  return dropped;
}

void MemoryStream::pause_reading() {
  paused_ = true;
}

void MemoryStream::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  // Input that waited in the "kernel" is read on the next turn, not from
  // inside this call (the handler is in the middle of something).
}

void MemoryStream::close_after_flush() {
  if (state_ != State::Open) return;
  state_ = State::Draining;
  if (pending_ == 0) after_write();
}

void MemoryStream::close_now() {
  close(/*reset=*/true);
}

void MemoryStream::fail() {
  close(/*reset=*/true);
}

void MemoryStream::close(bool reset) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  queue_.clear();
  pending_ = 0;
  if (peer_ != nullptr && reset) peer_->aborted_ = true;
  if (handler_ != nullptr) handler_->on_disconnect();
}

void MemoryStream::after_write() {
  if (pending_ != 0) return;
  if (state_ == State::Draining) {
    state_ = State::Lingering;
    if (peer_ != nullptr) peer_->fin_ = true;
    if (peer_ != nullptr && peer_->peer_closed_) close(/*reset=*/false);
    return;
  }
  if (state_ == State::Open && paused_ && handler_ != nullptr) handler_->on_drained();
}

}  // namespace parley::testing
