// The backend API on one connection over an in-memory stream, the loop driven
// by hand: an answer that comes later (the room's home answers through the
// loop), pipelined requests held until it is out, a connection that goes
// away before its answer, the HTTP budget while an answer is awaited.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/api_keys.h"
#include "support/server_harness.h"
#include "support/wire.h"

namespace parley::app {
namespace {

using testing::MemoryPeer;
using testing::ServerHarness;

constexpr std::string_view kKey = "0123456789abcdef-key";

Config with_api() {
  Config c;
  c.api_keys = std::make_shared<const ApiKeys>(*ApiKeys::parse("backend " + std::string(kKey)));
  return c;
}

std::string post(std::string_view room, std::string_view body, std::string_view extra = {}) {
  return "POST /api/v1/rooms/" + std::string(room) +
         "/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kKey) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

std::string get(std::string_view path) {
  return testing::get_request(path, "Authorization: Bearer " + std::string(kKey) + "\r\n");
}

std::vector<testing::HttpAnswer> responses(std::string bytes) {
  std::vector<testing::HttpAnswer> all;
  while (auto a = testing::take_response(bytes)) all.push_back(std::move(*a));
  return all;
}

TEST(ApiConnection, PipelinedRequestsWaitForTheAnswerBeforeThem) {
  ServerHarness h(with_api());
  auto peer = h.connect();
  // The body arrives in two pieces, then two more requests behind it.
  std::string req = post("lobby", R"({"id":"a","text":"hi"})");
  peer->write(req.substr(0, req.size() - 5));
  peer->write(req.substr(req.size() - 5) + get("/api/v1/rooms/lobby/messages") +
              testing::get_request("/healthz"));
  EXPECT_EQ(peer->read(), "") << "nothing is answered before the chat answers the post";
  // Each answer goes out, drains, and only then is the next request read.
  std::string wire;
  for (int round = 0; round < 4; ++round) {
    h.settle();
    std::string got = peer->read();
    EXPECT_LE(responses(got).size(), 1u) << "one answer per round trip";
    wire += got;
  }
  auto answers = responses(wire);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].status, 201);
  EXPECT_EQ(answers[1].status, 200);
  EXPECT_NE(answers[1].body.find("\"text\":\"hi\""), std::string::npos) << answers[1].body;
  EXPECT_EQ(answers[2].status, 200);
  EXPECT_EQ(peer->server_state(), net::Stream::State::Open);
}

TEST(ApiConnection, AConnectionGoneBeforeItsAnswerLosesOnlyTheAnswer) {
  ServerHarness h(with_api());
  auto peer = h.connect();
  peer->write(post("lobby", R"({"id":"a","text":"stored anyway"})"));
  peer->reset();
  h.settle();  // the answer finds no caller; nothing is touched
  EXPECT_EQ(h.connections(), 0u);
  auto again = h.connect();
  again->write(get("/api/v1/rooms/lobby/messages"));
  h.settle();
  auto answers = responses(again->read());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_NE(answers[0].body.find("stored anyway"), std::string::npos) << answers[0].body;
}

TEST(ApiConnection, AnAnswerAwaitedAtTheBudgetGetsOneMoreAndThenTheConnectionCloses) {
  ServerHarness h(with_api());
  auto peer = h.connect();
  peer->write(post("lobby", R"({"id":"a","text":"slow store"})"));
  h.sweep(h.loop().now() + std::chrono::seconds(11));
  EXPECT_EQ(peer->server_state(), net::Stream::State::Open) << "the answer gets its time";
  h.settle();
  auto answers = responses(peer->read());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 201);
  EXPECT_NE(answers[0].head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(peer->fin_received());
}

TEST(ApiConnection, ErrorsBeforeTheBodyCloseTheConnection) {
  ServerHarness h(with_api());
  auto peer = h.connect();
  std::string big =
      "POST /api/v1/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nAuthorization: "
      "Bearer " +
      std::string(kKey) + "\r\nContent-Length: 99999999\r\n\r\n{\"id\":";
  peer->write(big);
  auto answers = responses(peer->read());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 413);
  EXPECT_NE(answers[0].body.find("body_too_large"), std::string::npos);
  EXPECT_TRUE(peer->fin_received());
  // A 400 for a body that was read keeps the connection.
  auto other = h.connect();
  other->write(post("lobby", "{not json") + testing::get_request("/healthz"));
  auto two = responses(other->read());
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].status, 400);
  EXPECT_EQ(two[1].status, 200);
}

TEST(ApiConnection, WithoutKeysTheApiIsOff) {
  ServerHarness h;
  auto peer = h.connect();
  peer->write(get("/api/v1/rooms"));
  auto answers = responses(peer->read());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 404);
  EXPECT_NE(answers[0].body.find("api_disabled"), std::string::npos);
}

}  // namespace
}  // namespace parley::app
