// The whole server, fuzzed: bytes drive up to four clients of one server
// (connections, HTTP and WebSocket phases, the chat hub with its rooms in
// memory, as with --history off) over in-memory streams: no sockets, no
// threads, no clock (uWebSockets fuzzes its whole server over mocked epoll the
// same way). Small limits, so that backpressure, slow-consumer drops, the
// request cap and the deadlines are all within reach.
//
// Input: a sequence of commands. The first byte of each:
//   low 3 bits: the command; next 2 bits: which client (0-3)
//   0 write  <len:1> <bytes:len>   the client sends bytes
//   1 read                         the client reads what the wire holds
//   2 settle                       the loop runs posted and deferred work
//   3 sweep  <tenths:1>            time advances, the loop's sweep runs
//   4 close                        the client ends its side (FIN)
//   5 reset                        the client's connection fails
//   6 server <what:1>              the server ends it: close(1001) or abort
//   7 connect <shape:1>            a new client (window, read size, fail_at)
// After the input: every client closes, the deadlines pass, the loop
// settles, and then no connection and no WebSocket may be left (and ASan
// finds no leak: the room members went with them).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

#include "support/server_harness.h"

namespace {

using parley::testing::MemoryPeer;
using parley::testing::ServerHarness;

parley::app::Config fuzz_config() {
  parley::app::Config c;
  c.echo = true;
  c.max_message_size = 16 * 1024;
  c.soft_pending_output = 8 * 1024;
  c.max_pending_output = 32 * 1024;
  c.slow_consumer_seconds = 1;
  c.handshake_timeout = 2;
  c.http_max_requests = 4;
  c.ping_interval = 3;
  c.idle_timeout = 6;
  c.rate_per_sec = 1000;
  c.rate_burst = 1000;
  return c;
}

class Input {
 public:
  Input(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, size_ - at_);
    std::string_view s(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

MemoryPeer::Options shape(uint8_t b) {
  MemoryPeer::Options o;
  o.window = std::size_t{64} << (b & 7);  // 64 B .. 8 KiB on the wire
  o.max_read = std::size_t{1} << ((b >> 3) & 15);
  o.fail_at = (b & 0x80) ? (b & 0x3f) + 1 : 0;  // sometimes an I/O step fails
  return o;
}

void run(Input& in) {
  ServerHarness h(fuzz_config());
  auto now = h.loop().now();
  std::shared_ptr<MemoryPeer> peers[4];
  peers[0] = h.connect();
  peers[1] = h.connect();
  while (!in.done()) {
    uint8_t op = in.byte();
    auto& peer = peers[(op >> 3) & 3];
    switch (op & 7) {
      case 0: {
        std::string_view b = in.bytes(in.byte());
        if (peer) peer->write(b);
        break;
      }
      case 1:
        if (peer) peer->read();
        break;
      case 2:
        h.settle();
        break;
      case 3:
        now += std::chrono::milliseconds(100) * in.byte();
        h.sweep(now);
        break;
      case 4:
        if (peer) peer->close();
        break;
      case 5:
        if (peer) peer->reset();
        break;
      case 6: {
        bool abort = in.byte() & 1;
        h.ctx().connections.for_each([abort](parley::app::Connection& c) {
          if (abort) {
            c.abort();
          } else {
            c.close(1001, "going away");
          }
        });
        break;
      }
      case 7:
        if (peer) peer->reset();
        peer = h.connect(shape(in.byte()));
        break;
    }
  }
  for (auto& peer : peers) {
    if (peer) peer->close();
  }
  h.settle();
  // Whatever is still closing (lingering, waiting for a close frame) is
  // given up by the deadlines.
  now += std::chrono::seconds(60);
  h.sweep(now);
  h.sweep(now + std::chrono::seconds(60));
  for (auto& peer : peers) {
    if (peer) peer->expire_linger();
  }
  h.settle();
  if (h.connections() != 0 || h.ctx().stats.websocket_open.get() != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // drops and refusals are expected here
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Input in(data, size);
  run(in);
  return 0;
}
