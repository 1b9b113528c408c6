// Every I/O step of a connection made to fail once (Boost.Beast's fail_count):
// a scenario with an HTTP client and two chat clients runs again and again,
// with the n-th step of one peer's stream failing like a socket error, for
// n = 1, 2, ... until the scenario completes without reaching n. After each
// run, whatever failed: no crash or leak (ASan), every connection is freed,
// the WebSocket gauge is back to 0, and the room holds nobody (a newcomer is
// told it is alone).
#include <gtest/gtest.h>

#include <string>

#include "support/server_harness.h"
#include "support/wire.h"

namespace parley::app {
namespace {

using testing::MemoryPeer;
using testing::ServerHarness;

enum class Target { Http, Alice, Bob };

// One run; returns whether the target's failure was reached.
bool run_scenario(Target target, std::size_t fail_at) {
  ServerHarness h;
  auto options = [&](Target who) {
    MemoryPeer::Options o;
    o.window = 512;  // writes come in pieces: more steps to fail
    o.max_read = 7;  // so do reads
    if (who == target) o.fail_at = fail_at;
    return o;
  };
  auto http = h.connect(options(Target::Http));
  auto alice = h.connect(options(Target::Alice));
  auto bob = h.connect(options(Target::Bob));

  http->write(testing::get_request("/healthz") + testing::get_request("/index.html"));
  alice->write(testing::upgrade_request("/ws/faults"));
  h.settle();
  bob->write(testing::upgrade_request("/ws/faults"));
  h.settle();
  for (int i = 0; i < 3; ++i) {
    alice->write(testing::client_frame(ws::Opcode::Text, "hello " + std::to_string(i)));
    bob->write(testing::client_frame(ws::Opcode::Ping, "are you there"));
    h.settle();
    http->read();
    alice->read();
    bob->read();
  }
  alice->write(testing::client_close(1000));
  http->write(testing::get_request("/healthz", "Connection: close\r\n"));
  for (int i = 0; i < 20; ++i) {
    h.settle();
    http->read();
    alice->read();
    bob->read();
  }
  http->close();
  alice->close();
  bob->reset();
  h.settle();

  EXPECT_EQ(h.connections(), 0u) << "fail_at " << fail_at;
  EXPECT_EQ(h.ctx().stats.websocket_open.get(), 0u) << "fail_at " << fail_at;
  // Nobody is left in the room.
  auto newcomer = h.connect();
  auto other = h.connect();
  newcomer->write(testing::upgrade_request("/ws/faults"));
  other->write(testing::upgrade_request("/ws/faults"));
  h.settle();
  std::string out = newcomer->read();
  EXPECT_TRUE(testing::take_response(out));
  auto frames = testing::take_frames(out);
  EXPECT_FALSE(frames.empty()) << "fail_at " << fail_at;
  if (!frames.empty()) {
    // The second newcomer's notice says two: nobody else was left.
    EXPECT_EQ(frames.back().payload, "系统通知: 新用户加入,当前在线2人") << "fail_at " << fail_at;
  }
  bool failed = (target == Target::Http ? http : target == Target::Alice ? alice : bob)->failed();
  return failed;
}

void every_step_fails_once(Target target) {
  std::size_t n = 1;
  for (; n < 5000; ++n) {
    if (!run_scenario(target, n)) break;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(n, 10u);  // the scenario has that many steps at least
  EXPECT_LT(n, 5000u);
}

TEST(FaultInjection, EveryStepOfAnHttpConnectionFailsOnce) {
  every_step_fails_once(Target::Http);
}
TEST(FaultInjection, EveryStepOfAChatSenderFailsOnce) {
  every_step_fails_once(Target::Alice);
}
TEST(FaultInjection, EveryStepOfAChatReceiverFailsOnce) {
  every_step_fails_once(Target::Bob);
}

}  // namespace
}  // namespace parley::app
