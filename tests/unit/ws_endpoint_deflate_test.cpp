// The Endpoint with permessage-deflate negotiated (RFC 7692 §6, §7.2): RSV1
// marks compressed messages, which are inflated as they arrive, within
// max_message_size, and validated as text. Client payloads are made by zlib
// driven directly (ws_zlib_reference.h), not by our Deflater. Every test is
// run with the input fed whole, one byte at a time and in random splits.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "ws/endpoint.h"
#include "ws_endpoint_test_util.h"
#include "ws_zlib_reference.h"

namespace parley::ws {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace): test helpers

// A client frame with RSV1 set (the first frame of a compressed message).
std::string compressed_frame(Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  append_masked_frame(out, op, payload, kMask, fin, true);
  return out;
}

DeflateParams default_params() {
  // What the server's default policy agrees to.
  return {.server_no_context_takeover = true, .client_no_context_takeover = true};
}

DeflateParams takeover_params() {
  return {};  // both sides keep their context
}

std::string text_of(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += "chat line " + std::to_string(i) + " héllo wörld; ";
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s;
}

class DeflateEndpointTest : public testing::TestWithParam<Split> {
 protected:
  DeflateEndpointTest() { reset(default_params()); }

  void reset(const DeflateParams& params, std::size_t max_message_size = 1 << 20) {
    rec = Recorder();
    endpoint_ = std::make_unique<Endpoint>(
        Role::Server, Endpoint::Limits{.max_message_size = max_message_size}, rec);
    endpoint_->enable_deflate(params);
    rec.endpoint = endpoint_.get();
  }

  void feed(std::string_view input) {
    feed_in_pieces(input, GetParam(), [&](std::span<char> piece) { endpoint_->feed(piece); });
  }

  Endpoint& endpoint() { return *endpoint_; }
  std::vector<std::string> sent() const { return rec.sent_frames(Role::Server); }

  Recorder rec;

 private:
  std::unique_ptr<Endpoint> endpoint_;
};

INSTANTIATE_TEST_SUITE_P(Splits, DeflateEndpointTest,
                         testing::Values(Split{Split::Whole}, Split{Split::OneByte},
                                         Split{Split::Random, 1}, Split{Split::Random, 2},
                                         Split{Split::Random, 3}),
                         split_name);

TEST_P(DeflateEndpointTest, CompressedTextAndBinary) {
  RefDeflate client;
  const std::string text = text_of(5000);
  const std::string binary = std::string("\x00\x01\xff", 3) + std::string(3000, '\x7f');
  std::string input = compressed_frame(Opcode::Text, client.message(text));
  deflateReset(&client.z());
  input += compressed_frame(Opcode::Binary, client.message(binary));
  feed(input);
  EXPECT_EQ(rec.events, (Events{"text:" + text, "binary:" + binary}));
  EXPECT_TRUE(rec.sent.empty());
}

TEST_P(DeflateEndpointTest, UncompressedMessagesStillWork) {
  // RSV1 is per message: a peer may send any message uncompressed (§6).
  RefDeflate client;
  feed(client_frame(Opcode::Text, "plain") + compressed_frame(Opcode::Text, client.message("zip")) +
       client_frame(Opcode::Binary, "plain too"));
  EXPECT_EQ(rec.events, (Events{"text:plain", "text:zip", "binary:plain too"}));
}

TEST_P(DeflateEndpointTest, EmptyCompressedMessages) {
  // §7.2.3.6: an empty message may be a single 0x00 byte, or even no byte.
  feed(compressed_frame(Opcode::Text, std::string(1, '\0')) + compressed_frame(Opcode::Text, "") +
       compressed_frame(Opcode::Binary, std::string(1, '\0')));
  EXPECT_EQ(rec.events, (Events{"text:", "text:", "binary:"}));
}

TEST_P(DeflateEndpointTest, FragmentedCompressedMessage) {
  // RSV1 on the first frame only; the compressed payload is cut anywhere,
  // and control frames may come in between (§6.1).
  RefDeflate client;
  const std::string text = text_of(20000);
  const std::string payload = client.message(text);
  std::string input = compressed_frame(Opcode::Text, payload.substr(0, 10), false);
  input += client_frame(Opcode::Ping, "p");
  input += client_frame(Opcode::Continuation, payload.substr(10, 1000), false);
  input += client_frame(Opcode::Continuation, "", false);
  input += client_frame(Opcode::Continuation, payload.substr(1010));
  feed(input);
  EXPECT_EQ(rec.events, (Events{"ping:p", "text:" + text}));
  EXPECT_EQ(sent(), (Events{"pong:p"}));
}

TEST_P(DeflateEndpointTest, Rsv1OnAContinuationFails) {
  RefDeflate client;
  const std::string payload = client.message(text_of(100));
  std::string continuation;
  append_masked_frame(continuation, Opcode::Continuation, payload.substr(5), kMask, true, true);
  feed(compressed_frame(Opcode::Text, payload.substr(0, 5), false) + continuation);
  EXPECT_EQ(rec.events, (Events{"close:1002:reserved bit RSV1 set"}));
  EXPECT_EQ(sent(), (Events{"close:1002:reserved bit RSV1 set"}));
}

TEST_P(DeflateEndpointTest, Rsv1OnAControlFrameFails) {
  for (Opcode op : {Opcode::Ping, Opcode::Pong, Opcode::Close}) {
    reset(default_params());
    feed(compressed_frame(op, ""));
    EXPECT_EQ(rec.events, (Events{"close:1002:reserved bit RSV1 set"}));
  }
}

TEST_P(DeflateEndpointTest, Rsv2AndRsv3StillFail) {
  for (int rsv : {0x20, 0x10, 0x60}) {
    reset(default_params());
    std::string frame = client_frame(Opcode::Text, "x");
    frame[0] = static_cast<char>(frame[0] | rsv);
    feed(frame);
    EXPECT_EQ(rec.events, (Events{"close:1002:reserved bits RSV2/RSV3 set"})) << rsv;
  }
}

TEST_P(DeflateEndpointTest, ClientContextTakeover) {
  // Without client_no_context_takeover the client refers back into earlier
  // messages; the Endpoint keeps its window, even across trim().
  reset(takeover_params());
  RefDeflate client;
  const std::string text = text_of(3000);
  const std::string first = client.message(text);
  const std::string second = client.message(text);
  ASSERT_LT(second.size(), first.size() / 4);
  feed(compressed_frame(Opcode::Text, first));
  endpoint().trim();
  feed(compressed_frame(Opcode::Text, second));
  EXPECT_EQ(rec.events, (Events{"text:" + text, "text:" + text}));
}

TEST_P(DeflateEndpointTest, NoContextTakeoverRefusesBackReferences) {
  // With client_no_context_takeover agreed, a message referring back into
  // the previous one is invalid data.
  RefDeflate client;
  const std::string text = text_of(3000);
  const std::string first = client.message(text);
  feed(compressed_frame(Opcode::Text, first) +
       compressed_frame(Opcode::Text, client.message(text)));
  EXPECT_EQ(rec.events, (Events{"text:" + text, "close:1007:invalid compressed data"}));
}

TEST_P(DeflateEndpointTest, TrimBetweenMessagesWithoutContext) {
  RefDeflate client;
  feed(compressed_frame(Opcode::Text, client.message("one one one")));
  endpoint().trim();
  deflateReset(&client.z());
  feed(compressed_frame(Opcode::Text, client.message("two two two")));
  EXPECT_EQ(rec.events, (Events{"text:one one one", "text:two two two"}));
}

TEST_P(DeflateEndpointTest, ZipBombClosesWith1009) {
  // 16 MiB of zeros in ~16 KiB; the limit is 64 KiB.
  reset(default_params(), 64 << 10);
  RefDeflate client(15, 9);
  const std::string bomb = client.message(std::string(16 << 20, '\0'));
  ASSERT_LT(bomb.size(), 32u << 10);
  feed(compressed_frame(Opcode::Binary, bomb) + client_frame(Opcode::Text, "after"));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
  EXPECT_EQ(sent(), (Events{"close:1009:message too big"}));
}

TEST_P(DeflateEndpointTest, InflatedLimitIsInclusive) {
  const std::size_t limit = 3000;
  for (std::size_t n : {limit, limit + 1}) {
    reset(default_params(), limit);
    RefDeflate client;
    feed(compressed_frame(Opcode::Binary, client.message(std::string(n, 'b'))));
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0],
              n <= limit ? "binary:" + std::string(n, 'b') : "close:1009:message too big");
  }
}

TEST_P(DeflateEndpointTest, InflatedLimitCoversAllFragments) {
  reset(default_params(), 1000);
  RefDeflate client;
  const std::string payload = client.message(std::string(1200, 'f'));
  feed(compressed_frame(Opcode::Binary, payload.substr(0, 4), false) +
       client_frame(Opcode::Continuation, payload.substr(4)));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
}

TEST_P(DeflateEndpointTest, CompressedWireSizeIsBoundedFromTheHeader) {
  // Incompressible data may come out a little larger than it went in; a
  // compressed frame announcing far more than max_message_size is refused
  // at once, before any payload.
  reset(default_params(), 8000);
  std::string frame = compressed_frame(Opcode::Binary, std::string(10100, 'x'));
  frame.resize(20);  // the header and a few payload bytes
  feed(frame);
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
  // Random data in stored blocks, 8000 bytes in: a little more on the wire,
  // accepted.
  reset(default_params(), 8000);
  RefDeflate stored(15, 0);
  std::string noise(8000, '\0');
  unsigned x = 12345;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  const std::string payload = stored.message(noise);
  ASSERT_GT(payload.size(), noise.size());
  feed(compressed_frame(Opcode::Binary, payload));
  EXPECT_EQ(rec.events, (Events{"binary:" + noise}));
}

TEST_P(DeflateEndpointTest, InflatedTextMustBeUtf8) {
  RefDeflate client;
  feed(compressed_frame(Opcode::Text, client.message("ok \xc3\xa9")) +
       compressed_frame(Opcode::Text, client.message("bad \xc3\x28 text")));
  EXPECT_EQ(rec.events, (Events{"text:ok \xc3\xa9", "close:1007:invalid UTF-8 in text message"}));
}

TEST_P(DeflateEndpointTest, InflatedTextMustNotEndMidSequence) {
  RefDeflate client;
  feed(compressed_frame(Opcode::Text, client.message("cut \xe4\xbd")));
  EXPECT_EQ(rec.events, (Events{"close:1007:text message ends inside a UTF-8 sequence"}));
}

TEST_P(DeflateEndpointTest, InflatedBinaryIsNotValidated) {
  RefDeflate client;
  feed(compressed_frame(Opcode::Binary, client.message("\xc3\x28\xff")));
  EXPECT_EQ(rec.events, (Events{"binary:\xc3\x28\xff"}));
}

TEST_P(DeflateEndpointTest, CorruptDataClosesWith1007) {
  for (const std::string& bad :
       {std::string("\xff\xff\xff\xff\xff", 5), std::string("\x07\x00", 2), text_of(50)}) {
    // Binary: garbage may inflate to a few bytes before it fails, and those
    // would fail as text first.
    reset(default_params());
    feed(compressed_frame(Opcode::Binary, bad));
    EXPECT_EQ(rec.events, (Events{"close:1007:invalid compressed data"}));
  }
}

TEST_P(DeflateEndpointTest, DataAfterAFinalBlockIsCorrupt) {
  RefDeflate client;
  std::string payload = client.message("the end", Z_FINISH);
  feed(compressed_frame(Opcode::Text, payload + "more"));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid compressed data"}));
}

TEST_P(DeflateEndpointTest, CompressedFramesAreIgnoredWhileClosing) {
  RefDeflate client;
  endpoint().close(close_code::GoingAway, "bye");
  feed(compressed_frame(Opcode::Text, client.message(text_of(500))) +
       client_frame(Opcode::Close, close_payload(1000)));
  EXPECT_EQ(rec.events, (Events{"close:1000:"}));
}

TEST(DeflateEndpoint, WithoutDeflateRsv1StillFails) {
  Recorder rec;
  Endpoint endpoint(Role::Server, {}, rec);
  std::string frame = compressed_frame(Opcode::Text, std::string(1, '\0'));
  std::vector<char> bytes(frame.begin(), frame.end());
  endpoint.feed(bytes);
  EXPECT_EQ(rec.events, (Events{"close:1002:reserved bit RSV1 set"}));
}

TEST(DeflateEndpoint, ClientRoleInflatesWithTheServerParameters) {
  // As a client, what we inflate is the server's: server_no_context_takeover
  // decides whether the window is kept.
  Recorder rec;
  Endpoint endpoint(Role::Client, {}, rec);
  endpoint.enable_deflate(
      {.server_no_context_takeover = false, .client_no_context_takeover = true});
  RefDeflate server;
  const std::string text = text_of(2000);
  std::string input;
  append_frame(input, Opcode::Text, server.message(text), true, true);
  append_frame(input, Opcode::Text, server.message(text), true, true);
  std::vector<char> bytes(input.begin(), input.end());
  endpoint.feed(bytes);
  EXPECT_EQ(rec.events, (Events{"text:" + text, "text:" + text}));
}

}  // namespace
}  // namespace parley::ws
