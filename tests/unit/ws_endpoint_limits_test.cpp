// The Endpoint's per-message refusal (Limits::refuse_above) and inflate
// allowance (set_inflate_allowance): a message over the owner's limit is
// skipped, compressed or not, without being buffered or inflated past the
// limit, and the connection stays; a read full of compressed messages stops
// when the allowance is spent and resumes where it stopped. Every test runs
// with the input fed whole, one byte at a time and in random splits.
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

constexpr std::size_t kRefuseAbove = 4000;
constexpr std::size_t kMaxMessage = 1 << 20;

std::string compressed_frame(Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  append_masked_frame(out, op, payload, kMask, fin, true);
  return out;
}

DeflateParams no_takeover() {
  return {.server_no_context_takeover = true, .client_no_context_takeover = true};
}

class EndpointLimitsTest : public testing::TestWithParam<Split> {
 protected:
  EndpointLimitsTest() { reset(no_takeover()); }

  void reset(const DeflateParams& params) {
    rec = Recorder();
    endpoint_ = std::make_unique<Endpoint>(
        Role::Server,
        Endpoint::Limits{.max_message_size = kMaxMessage, .refuse_above = kRefuseAbove}, rec);
    endpoint_->enable_deflate(params);
    rec.endpoint = endpoint_.get();
  }

  void feed(std::string_view input) {
    feed_in_pieces(input, GetParam(),
                   [&](std::span<char> piece) { EXPECT_EQ(endpoint_->feed(piece), piece.size()); });
  }

  Endpoint& endpoint() { return *endpoint_; }

  Recorder rec;

 private:
  std::unique_ptr<Endpoint> endpoint_;
};

INSTANTIATE_TEST_SUITE_P(Splits, EndpointLimitsTest,
                         testing::Values(Split{Split::Whole}, Split{Split::OneByte},
                                         Split{Split::Random, 1}, Split{Split::Random, 2}),
                         split_name);

using Events = std::vector<std::string>;

TEST_P(EndpointLimitsTest, UncompressedTextOverTheLimitIsRefusedAndTheConnectionStays) {
  feed(client_frame(Opcode::Text, std::string(kRefuseAbove + 1, 'x')) +
       client_frame(Opcode::Text, std::string(kRefuseAbove, 'y')) +
       client_frame(Opcode::Text, "after"));
  EXPECT_EQ(rec.events,
            (Events{"refused:text", "text:" + std::string(kRefuseAbove, 'y'), "text:after"}));
  EXPECT_TRUE(rec.sent.empty());
  EXPECT_EQ(endpoint().state(), Endpoint::State::Open);
}

TEST_P(EndpointLimitsTest, FragmentsAddingUpPastTheLimitAreRefusedAroundControlFrames) {
  const std::string half(kRefuseAbove / 2 + 1, 'h');
  feed(client_frame(Opcode::Text, half, false) + client_frame(Opcode::Ping, "p") +
       client_frame(Opcode::Continuation, half, false) + client_frame(Opcode::Continuation, half) +
       client_frame(Opcode::Binary, "b"));
  EXPECT_EQ(rec.events, (Events{"ping:p", "refused:text", "binary:b"}));
}

TEST_P(EndpointLimitsTest, ARefusedTextIsStillCheckedForUtf8) {
  std::string bad(kRefuseAbove + 10, 'z');
  bad[kRefuseAbove + 5] = '\xff';
  feed(client_frame(Opcode::Text, bad));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid UTF-8 in text message"}));
}

TEST_P(EndpointLimitsTest, TheHardLimitStillCloses1009) {
  feed(client_frame(Opcode::Text, std::string(kMaxMessage + 1, 'x')));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
}

TEST_P(EndpointLimitsTest, InflatedLimitIsInclusive) {
  RefDeflate client;
  feed(compressed_frame(Opcode::Text, client.message(std::string(kRefuseAbove, 'a'))));
  deflateReset(&client.z());
  feed(compressed_frame(Opcode::Text, client.message(std::string(kRefuseAbove + 1, 'a'))));
  EXPECT_EQ(rec.events, (Events{"text:" + std::string(kRefuseAbove, 'a'), "refused:text"}));
}

TEST_P(EndpointLimitsTest, AZipBombStopsAtTheLimitAndTheNextMessageInflates) {
  // 16 MiB of zeros in ~16 KiB: inflating stops past 4000 bytes.
  RefDeflate client(15, 9);
  const std::string bomb = client.message(std::string(16 << 20, '\0'));
  ASSERT_LT(bomb.size(), 32u << 10);
  deflateReset(&client.z());
  const std::string next = client.message("after the bomb");
  feed(compressed_frame(Opcode::Text, bomb) + compressed_frame(Opcode::Text, next));
  EXPECT_EQ(rec.events, (Events{"refused:text", "text:after the bomb"}));
  EXPECT_TRUE(rec.sent.empty());
  // Never more than the limit (plus the byte that shows the overflow), then
  // the next message.
  EXPECT_LE(endpoint().inflated_bytes(), kRefuseAbove + 1 + 14);
}

TEST_P(EndpointLimitsTest, AZipBombSplitOverContinuationFramesIsNotInflatedPastTheLimit) {
  RefDeflate client(15, 9);
  const std::string bomb = client.message(std::string(16 << 20, 'z'));
  // The first frame carries RSV1 and a few bytes; continuations the rest,
  // with a ping in the middle.
  std::string wire = compressed_frame(Opcode::Text, bomb.substr(0, 3), false);
  std::size_t pos = 3;
  for (int i = 0; pos < bomb.size(); ++i) {
    const std::size_t n = std::min<std::size_t>(bomb.size() - pos, 100);
    wire += client_frame(Opcode::Continuation, bomb.substr(pos, n), pos + n == bomb.size());
    if (i == 3) wire += client_frame(Opcode::Ping, "mid");
    pos += n;
  }
  deflateReset(&client.z());
  wire += compressed_frame(Opcode::Binary, client.message("ok"));
  feed(wire);
  EXPECT_EQ(rec.events, (Events{"ping:mid", "refused:text", "binary:ok"}));
  EXPECT_LE(endpoint().inflated_bytes(), kRefuseAbove + 1 + 2);
}

TEST_P(EndpointLimitsTest, WithContextTakeoverACompressedMessagePastTheLimitCloses1009) {
  reset({});  // both sides keep their context: a skipped message would break the next
  RefDeflate client(15, 9);
  feed(compressed_frame(Opcode::Text, client.message(std::string(1 << 20, 'q'))));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
}

TEST_P(EndpointLimitsTest, AnUncompressedRefusalKeepsTheInflatersContext) {
  reset({});
  RefDeflate client;
  const std::string first = client.message("hello hello");
  const std::string second = client.message("hello hello");  // refers back into the first
  feed(compressed_frame(Opcode::Text, first) +
       client_frame(Opcode::Text, std::string(kRefuseAbove + 1, 'u')) +
       compressed_frame(Opcode::Text, second));
  EXPECT_EQ(rec.events, (Events{"text:hello hello", "refused:text", "text:hello hello"}));
}

// The inflate allowance: fed in pieces of `split`, the caller refills the
// allowance by `step` whenever feed() stops short, and feeds the rest.
TEST_P(EndpointLimitsTest, FeedStopsWhenTheInflateAllowanceIsSpentAndResumes) {
  constexpr int kMessages = 10;
  constexpr std::size_t kEach = 1000;
  constexpr uint64_t kStep = 2500;
  std::string wire;
  RefDeflate client;
  for (int i = 0; i < kMessages; ++i) {
    deflateReset(&client.z());
    wire += compressed_frame(Opcode::Text, client.message(std::string(kEach, 'a' + i)));
  }
  endpoint().set_inflate_allowance(kStep);
  int stops = 0;
  feed_in_pieces(wire, GetParam(), [&](std::span<char> piece) {
    for (;;) {
      const std::size_t used = endpoint().feed(piece);
      // feed() stops short only when the allowance is spent; the caller
      // also checks after a piece that was used up.
      if (used < piece.size()) {
        EXPECT_TRUE(endpoint().inflate_allowance_spent());
      }
      if (endpoint().inflate_allowance_spent()) {
        // Spent by at most one piece's inflation.
        ++stops;
        EXPECT_LE(endpoint().inflated_bytes(), kStep * stops + kEach);
        endpoint().set_inflate_allowance(kStep * (stops + 1));
      }
      if (used == piece.size()) return;
      piece = piece.subspan(used);
    }
  });
  ASSERT_EQ(rec.events.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(rec.events[i], "text:" + std::string(kEach, 'a' + i));
  }
  EXPECT_EQ(endpoint().inflated_bytes(), kMessages * kEach);
  EXPECT_GE(stops, 3);
}

}  // namespace
}  // namespace parley::ws
