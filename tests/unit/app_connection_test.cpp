// One connection, HTTP then WebSocket, over an in-memory stream: requests
// answered in order, the HTTP budget and request cap, output backpressure
// (nothing is read while output is over the soft limit), the slow-consumer
// rules, the two ways to end, and the connection list that owns it all.
#include "app/connection.h"

#include <gtest/gtest.h>

#include <string>

#include "support/server_harness.h"
#include "support/wire.h"
#include "ws/close_code.h"

namespace parley::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::MemoryPeer;
using testing::ServerHarness;

constexpr std::size_t KiB = 1024;

Config small_limits() {
  Config c;
  c.echo = true;
  c.soft_pending_output = 64 * KiB;
  c.max_pending_output = 256 * KiB;
  c.slow_consumer_seconds = 1;
  c.handshake_timeout = 10;
  c.http_max_requests = 100;
  return c;
}

// Every response in `bytes`.
std::vector<testing::HttpAnswer> responses(std::string& bytes) {
  std::vector<testing::HttpAnswer> all;
  while (auto a = testing::take_response(bytes)) all.push_back(std::move(*a));
  return all;
}

TEST(Connection, AnswersPipelinedRequestsInOrderAndStaysOpen) {
  ServerHarness h;
  auto peer = h.connect();
  peer->write(testing::get_request("/healthz") + testing::get_request("/nothing-here") +
              testing::get_request("/healthz", "Connection: keep-alive\r\n"));
  std::string out = peer->read();
  auto answers = responses(out);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].status, 200);
  EXPECT_EQ(answers[0].body, "{\"status\":\"ok\"}\n");
  EXPECT_EQ(answers[1].status, 404);
  EXPECT_EQ(answers[2].status, 200);
  EXPECT_EQ(peer->server_state(), net::Stream::State::Open);
  EXPECT_EQ(h.ctx().stats.http_requests.get(), 3u);
}

TEST(Connection, TheLastAllowedRequestSaysConnectionCloseAndEndsIt) {
  Config c;
  c.http_max_requests = 3;
  ServerHarness h(c);
  auto peer = h.connect();
  std::string five;
  for (int i = 0; i < 5; ++i) five += testing::get_request("/healthz");
  peer->write(five);
  std::string out = peer->read();
  auto answers = responses(out);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_FALSE(answers[1].has_header("Connection: close"));
  EXPECT_TRUE(answers[2].has_header("Connection: close"));
  EXPECT_TRUE(peer->fin_received());
  peer->close();
  h.settle();
  EXPECT_EQ(h.connections(), 0u);
}

TEST(Connection, TheHttpBudgetIsForTheWholeConnectionNotEachRequest) {
  ServerHarness h(small_limits());
  auto t0 = h.loop().now();
  auto peer = h.connect();
  for (int s = 1; s < 10; ++s) {
    peer->write(testing::get_request("/healthz"));  // a request a second...
    peer->read();
    h.sweep(t0 + seconds(s));
    ASSERT_EQ(peer->server_state(), net::Stream::State::Open) << s;
  }
  h.sweep(t0 + seconds(10));  // ...does not buy more time
  EXPECT_TRUE(peer->aborted_by_server());
  EXPECT_EQ(h.ctx().stats.http_timeouts.get(), 1u);
  h.settle();
  EXPECT_EQ(h.connections(), 0u);
}

TEST(Connection, AnAnswerStillLeavingAtTheBudgetGetsOneMoreBudget) {
  ServerHarness h(small_limits());
  auto t0 = h.loop().now();
  auto peer = h.connect(MemoryPeer::Options{.window = 1 * KiB});
  peer->write(testing::get_request("/app.js"));
  h.sweep(t0 + seconds(10));
  EXPECT_EQ(h.ctx().stats.http_timeouts.get(), 1u);
  EXPECT_EQ(peer->server_state(), net::Stream::State::Draining);  // no more requests
  EXPECT_FALSE(peer->aborted_by_server());
  h.sweep(t0 + seconds(19));
  EXPECT_FALSE(peer->aborted_by_server());
  h.sweep(t0 + seconds(20));  // still not read: cut
  EXPECT_TRUE(peer->aborted_by_server());
}

TEST(Connection, ASlowReaderGetsItsLastAnswerWithinTheSecondBudget) {
  ServerHarness h(small_limits());
  auto t0 = h.loop().now();
  auto peer = h.connect(MemoryPeer::Options{.window = 1 * KiB});
  peer->write(testing::get_request("/app.js"));
  h.sweep(t0 + seconds(10));
  std::string out;
  for (int i = 0; i < 100 && (!peer->fin_received() || peer->wire_bytes() > 0); ++i) {
    out += peer->read();
  }
  auto answer = testing::take_response(out);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_TRUE(peer->fin_received());
  EXPECT_FALSE(peer->aborted_by_server());
}

TEST(Connection, RequestsWaitUnreadWhileOutputIsOverTheLimit) {
  ServerHarness h(small_limits());
  auto peer = h.connect(MemoryPeer::Options{.window = 8 * KiB});
  constexpr int kRequests = 40;
  std::string all;
  for (int i = 0; i < kRequests; ++i) all += testing::get_request("/app.js");
  peer->write(all);
  // Answered until the queue passed 64 KiB, then nothing more is parsed.
  std::size_t limit = h.config().soft_pending_output;
  EXPECT_GT(peer->server_pending(), limit);
  EXPECT_EQ(h.ctx().stats.reading_paused.get(), 1u);
  std::size_t answered_before = h.ctx().stats.http_requests.get();
  EXPECT_LT(answered_before, std::size_t{kRequests});
  // The client reads; the rest are answered as the queue drains, in order, and
  // the queue never holds more than the limit plus one answer.
  std::string out;
  std::size_t most_pending = 0;
  for (int round = 0; round < 10000 && h.ctx().stats.http_requests.get() < kRequests; ++round) {
    out += peer->read();
    peer->deliver();
    most_pending = std::max(most_pending, peer->server_pending());
  }
  for (int round = 0; round < 1000 && (peer->server_pending() > 0 || peer->wire_bytes() > 0);
       ++round) {
    out += peer->read();
  }
  // Every answer is the same (app.js and its head): one is the wire total / count.
  const std::size_t one_answer = out.size() / kRequests;
  auto answers = responses(out);
  ASSERT_EQ(answers.size(), std::size_t{kRequests});
  for (const auto& a : answers) EXPECT_EQ(a.status, 200);
  EXPECT_LE(most_pending, limit + one_answer);
  EXPECT_GT(h.ctx().stats.reading_paused.get(), 1u);
}

TEST(Connection, UpgradesAndEchoes) {
  ServerHarness h(small_limits());
  auto peer = h.connect();
  peer->write(testing::upgrade_request("/echo") + testing::client_frame(ws::Opcode::Text, "hi"));
  std::string out = peer->read();
  auto answer = testing::take_response(out);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 101);
  auto frames = testing::take_frames(out);
  ASSERT_EQ(frames.size(), 1u);  // the frame that came with the request
  EXPECT_EQ(frames[0].payload, "hi");
  EXPECT_EQ(h.ctx().stats.websocket_open.get(), 1u);
  peer->write(testing::client_frame(ws::Opcode::Binary, std::string(1000, 'b')));
  out = peer->read();
  frames = testing::take_frames(out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::Opcode::Binary);
  EXPECT_EQ(frames[0].payload.size(), 1000u);
}

TEST(Connection, APingFloodThatIsNotReadStallsThenIsDroppedAsASlowConsumer) {
  ServerHarness h(small_limits());
  auto t0 = h.loop().now();
  auto peer = h.connect(MemoryPeer::Options{.window = 4 * KiB});
  peer->write(testing::upgrade_request("/ws/flood"));
  std::string ping = testing::client_frame(ws::Opcode::Ping, std::string(125, 'p'));
  std::string flood;
  for (int i = 0; i < 4000; ++i) flood += ping;  // 524 KB of pings
  peer->write(flood);
  peer->pump();
  // Pongs count: the server stopped reading soon after its queue passed the
  // soft limit, and most of the flood is still unread.
  std::size_t limit = h.config().soft_pending_output;
  EXPECT_GT(peer->server_pending(), limit);
  EXPECT_LT(peer->server_pending(), limit + 64 * KiB + 4 * KiB);
  EXPECT_GT(peer->unread_input(), flood.size() / 2);
  EXPECT_EQ(h.ctx().stats.reading_paused.get(), 1u);
  // Over the limit for --slow-consumer-seconds: dropped, 1013 queued.
  h.sweep(t0 + milliseconds(500));
  EXPECT_EQ(h.ctx().stats.slow_consumers_dropped.get(), 0u);
  h.sweep(t0 + seconds(1));
  EXPECT_EQ(h.ctx().stats.slow_consumers_dropped.get(), 1u);
  // It never reads: cut after the closing timeout (a reset), counted from the
  // first sweep that sees it closing.
  h.sweep(t0 + milliseconds(1250));
  h.sweep(t0 + milliseconds(1250) + seconds(9));
  EXPECT_FALSE(peer->aborted_by_server());
  h.sweep(t0 + milliseconds(1250) + seconds(10));
  EXPECT_TRUE(peer->aborted_by_server());
  h.settle();
  EXPECT_EQ(h.connections(), 0u);
  EXPECT_EQ(h.ctx().stats.websocket_open.get(), 0u);
}

TEST(Connection, ADroppedClientThatWakesUpFindsCloseTryAgainLater) {
  ServerHarness h(small_limits());
  auto t0 = h.loop().now();
  auto peer = h.connect(MemoryPeer::Options{.window = 4 * KiB});
  peer->write(testing::upgrade_request("/ws/wake"));
  peer->pump();  // the loop flushes the 101 (the kernel takes it)
  std::string flood;
  for (int i = 0; i < 4000; ++i)
    flood += testing::client_frame(ws::Opcode::Ping, std::string(125, 'p'));
  peer->write(flood);
  h.sweep(t0);
  h.sweep(t0 + seconds(2));
  ASSERT_EQ(h.ctx().stats.slow_consumers_dropped.get(), 1u);
  // The client wakes up and reads: the pongs that were on their way, then the
  // close frame, nothing after it.
  std::string out;
  std::vector<testing::ServerFrame> frames;
  bool upgraded = false;
  for (int i = 0; i < 1000; ++i) {
    out += peer->read();
    if (!upgraded && !(upgraded = testing::take_response(out).has_value())) continue;
    for (auto& f : testing::take_frames(out)) frames.push_back(std::move(f));
    if (!frames.empty() && frames.back().opcode == ws::Opcode::Close) break;
  }
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().opcode, ws::Opcode::Close);
  EXPECT_EQ(frames.back().close_code(), ws::close_code::TryAgainLater);
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) EXPECT_EQ(frames[i].opcode, ws::Opcode::Pong);
  // Its close reply is read after the pings before it (ignored now), and the
  // server ends TCP.
  peer->write(testing::client_close(1013));
  for (int i = 0; i < 100 && !peer->fin_received(); ++i) {
    peer->read();
    peer->deliver();
  }
  EXPECT_TRUE(peer->fin_received());
}

TEST(Connection, ChatOutputOverTheHardLimitDropsTheClient) {
  Config c = small_limits();
  c.rate_per_sec = 1e9;
  c.rate_burst = 1e9;
  ServerHarness h(c);
  auto reader = h.connect(MemoryPeer::Options{.window = 1 * KiB});
  auto writer = h.connect();
  reader->write(testing::upgrade_request("/ws/hard"));
  writer->write(testing::upgrade_request("/ws/hard"));
  h.settle();
  std::string message(1000, 'm');
  for (int i = 0; i < 400 && h.ctx().stats.slow_consumers_dropped.get() == 0; ++i) {
    writer->write(testing::client_frame(ws::Opcode::Text, message));
    h.settle();  // the room fans out
    writer->read();
  }
  EXPECT_EQ(h.ctx().stats.slow_consumers_dropped.get(), 1u);
  EXPECT_LE(reader->server_pending(), c.max_pending_output);
  // The writer is not affected.
  EXPECT_EQ(writer->server_state(), net::Stream::State::Open);
}

TEST(Connection, CloseIsTheWebSocketClosingHandshake) {
  ServerHarness h(small_limits());
  auto peer = h.connect();
  peer->write(testing::upgrade_request("/echo"));
  h.ctx().connections.for_each(
      [](Connection& conn) { conn.close(ws::close_code::GoingAway, "server shutting down"); });
  std::string out = peer->read();
  ASSERT_TRUE(testing::take_response(out));
  auto frames = testing::take_frames(out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::close_code::GoingAway);
  EXPECT_FALSE(peer->fin_received());  // waits for our close frame
  peer->write(testing::client_close(1001));
  peer->pump();
  EXPECT_TRUE(peer->fin_received());  // then the server ends TCP first
  peer->close();
  h.settle();
  EXPECT_EQ(h.connections(), 0u);
  EXPECT_EQ(h.ctx().stats.websocket_open.get(), 0u);
}

TEST(Connection, AbortEndsAtOnce) {
  ServerHarness h(small_limits());
  auto http = h.connect();
  auto ws = h.connect();
  ws->write(testing::upgrade_request("/ws/abort"));
  EXPECT_EQ(h.connections(), 2u);
  h.abort_all();
  EXPECT_TRUE(http->aborted_by_server());
  EXPECT_TRUE(ws->aborted_by_server());
  EXPECT_EQ(h.connections(), 0u);
  EXPECT_FALSE(http->server_exists());  // freed by the list
}

TEST(Connection, AStreamThatCannotStartEndsTheConnection) {
  ServerHarness h;
  auto peer = h.connect(MemoryPeer::Options{.fail_at = 1});
  EXPECT_TRUE(peer->failed());
  h.settle();
  EXPECT_EQ(h.connections(), 0u);
}

// The list (ported from the former SessionList test): O(1) add and retire,
// and a walk that survives connections ending under it.
TEST(ConnectionList, RetiringTwiceIsHarmlessAndTheWalkSurvivesEndings) {
  ServerHarness h;
  auto a = h.connect();
  auto b = h.connect();
  auto c = h.connect();
  EXPECT_EQ(h.connections(), 3u);
  int visited = 0;
  h.ctx().connections.for_each([&](Connection& conn) {
    ++visited;
    conn.abort();
    conn.abort();
    // A broadcast during one connection's turn can end another.
    h.ctx().connections.for_each([](Connection& other) { other.abort(); });
  });
  EXPECT_EQ(visited, 3);
  EXPECT_EQ(h.connections(), 0u);
  EXPECT_TRUE(a->server_exists());  // destroyed only after the current batch
  h.settle();
  EXPECT_FALSE(a->server_exists());
  EXPECT_FALSE(b->server_exists());
  EXPECT_FALSE(c->server_exists());
}

}  // namespace
}  // namespace parley::app
