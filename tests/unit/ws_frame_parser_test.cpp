// The frame parser on RFC 6455 §5.7 examples and on every framing error,
// with the input fed whole, one byte at a time and in random splits.
#include "ws/frame_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame_writer.h"
#include "ws_endpoint_test_util.h"

namespace parley::ws {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace): test helpers

struct Frame {
  Opcode opcode;
  bool fin;
  bool masked;
  std::string payload;
};

struct Parsed {
  std::vector<Frame> frames;
  bool error = false;
  std::string error_reason;
  std::size_t error_after = 0;  // input bytes handed to the parser before it failed
};

class FrameParserTest : public testing::TestWithParam<Split> {
 protected:
  Parsed parse(std::string input, Role role) {
    FrameParser parser(role);
    Parsed out;
    std::string payload;
    std::mt19937 rng(GetParam().seed);
    std::size_t pos = 0;
    while (pos < input.size() && !out.error) {
      std::size_t n = input.size() - pos;
      if (GetParam().kind == Split::OneByte) n = 1;
      if (GetParam().kind == Split::Random) n = std::min<std::size_t>(n, 1 + rng() % 9);
      std::span<char> piece(input.data() + pos, n);
      pos += n;
      for (bool more = true; more;) {
        const auto step = parser.next(piece);
        EXPECT_LE(step.consumed, piece.size());
        piece = piece.subspan(step.consumed);
        switch (step.event) {
          case FrameParser::Event::NeedMore:
            EXPECT_TRUE(piece.empty());
            more = false;
            break;
          case FrameParser::Event::Error:
            out.error = true;
            out.error_reason = std::string(parser.error_reason());
            out.error_after = pos;
            EXPECT_EQ(parser.error_code(), 1002);
            EXPECT_TRUE(parser.failed());
            more = false;
            break;
          case FrameParser::Event::Header:
            break;
          case FrameParser::Event::Payload:
            payload.append(step.payload.data(), step.payload.size());
            if (step.frame_complete) {
              const FrameHeader& h = parser.header();
              EXPECT_EQ(payload.size(), h.payload_length);
              out.frames.push_back({h.opcode, h.fin, h.masked, payload});
              payload.clear();
            }
            break;
        }
      }
    }
    return out;
  }

  void expect_error(std::string input, Role role, std::string_view reason) {
    const Parsed p = parse(std::move(input), role);
    EXPECT_TRUE(p.error);
    EXPECT_EQ(p.error_reason, reason);
  }
};

INSTANTIATE_TEST_SUITE_P(Splits, FrameParserTest,
                         testing::Values(Split{Split::Whole}, Split{Split::OneByte},
                                         Split{Split::Random, 1}, Split{Split::Random, 2},
                                         Split{Split::Random, 3}),
                         split_name);

TEST_P(FrameParserTest, RfcUnmaskedHello) {
  const Parsed p = parse(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Role::Client);
  ASSERT_FALSE(p.error);
  ASSERT_EQ(p.frames.size(), 1u);
  EXPECT_EQ(p.frames[0].opcode, Opcode::Text);
  EXPECT_TRUE(p.frames[0].fin);
  EXPECT_FALSE(p.frames[0].masked);
  EXPECT_EQ(p.frames[0].payload, "Hello");
}

TEST_P(FrameParserTest, RfcMaskedHelloIsUnmasked) {
  const Parsed p = parse(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                         Role::Server);
  ASSERT_EQ(p.frames.size(), 1u);
  EXPECT_TRUE(p.frames[0].masked);
  EXPECT_EQ(p.frames[0].payload, "Hello");
}

TEST_P(FrameParserTest, RfcFragmentsPingAndPong) {
  const Parsed p = parse(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, 0x89, 0x05,
                                0x48, 0x65, 0x6c, 0x6c, 0x6f}),
                         Role::Client);
  ASSERT_EQ(p.frames.size(), 3u);
  EXPECT_EQ(p.frames[0].opcode, Opcode::Text);
  EXPECT_FALSE(p.frames[0].fin);
  EXPECT_EQ(p.frames[0].payload, "Hel");
  EXPECT_EQ(p.frames[1].opcode, Opcode::Continuation);
  EXPECT_TRUE(p.frames[1].fin);
  EXPECT_EQ(p.frames[1].payload, "lo");
  EXPECT_EQ(p.frames[2].opcode, Opcode::Ping);
  EXPECT_EQ(p.frames[2].payload, "Hello");

  const Parsed pong = parse(
      bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), Role::Server);
  ASSERT_EQ(pong.frames.size(), 1u);
  EXPECT_EQ(pong.frames[0].opcode, Opcode::Pong);
  EXPECT_EQ(pong.frames[0].payload, "Hello");
}

TEST_P(FrameParserTest, RfcSixteenAndSixtyFourBitLengths) {
  std::string payload256(256, '\0'), payload64k(65536, '\0');
  for (std::size_t i = 0; i < payload64k.size(); ++i) payload64k[i] = static_cast<char>(i * 7);
  const Parsed p = parse(bytes({0x82, 0x7E, 0x01, 0x00}) + payload256 +
                             bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + payload64k,
                         Role::Client);
  ASSERT_EQ(p.frames.size(), 2u);
  EXPECT_EQ(p.frames[0].payload, payload256);
  EXPECT_EQ(p.frames[1].payload, payload64k);
}

TEST_P(FrameParserTest, MaskedPayloadOfEveryLengthAroundTheBoundaries) {
  std::string input, expected_all;
  std::vector<std::size_t> lengths = {0, 1, 2, 3, 4, 5, 7, 8, 9, 124, 125, 126, 127, 65535, 65536};
  for (std::size_t len : lengths) {
    std::string payload(len, '\0');
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i + len);
    append_masked_frame(input, Opcode::Binary, payload, {0x12, 0x34, 0x56, 0x78});
    expected_all += payload;
  }
  const Parsed p = parse(input, Role::Server);
  ASSERT_FALSE(p.error);
  ASSERT_EQ(p.frames.size(), lengths.size());
  std::string all;
  for (const Frame& f : p.frames) all += f.payload;
  EXPECT_EQ(all, expected_all);
}

TEST_P(FrameParserTest, NonMinimalLengthsAreAccepted) {
  const Parsed p = parse(
      bytes({0x82, 0x7E, 0x00, 0x01, 'a'}) + bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x01, 'b'}),
      Role::Client);
  ASSERT_EQ(p.frames.size(), 2u);
  EXPECT_EQ(p.frames[0].payload, "a");
  EXPECT_EQ(p.frames[1].payload, "b");
}

TEST_P(FrameParserTest, ReservedBitsFail) {
  expect_error(bytes({0xC1, 0x80, 0, 0, 0, 0}), Role::Server, "reserved bit RSV1 set");
  expect_error(bytes({0xA1, 0x80, 0, 0, 0, 0}), Role::Server, "reserved bits RSV2/RSV3 set");
  expect_error(bytes({0x91, 0x80, 0, 0, 0, 0}), Role::Server, "reserved bits RSV2/RSV3 set");
}

TEST_P(FrameParserTest, ReservedOpcodesFail) {
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    expect_error(bytes({0x80 | op, 0x00}), Role::Client, "reserved opcode");
  }
}

TEST_P(FrameParserTest, MaskingRulesPerRole) {
  expect_error(bytes({0x81, 0x00}), Role::Server, "client frame not masked");
  expect_error(bytes({0x81, 0x80, 1, 2, 3, 4}), Role::Client, "server frame masked");
}

TEST_P(FrameParserTest, ControlFrameRules) {
  expect_error(bytes({0x09, 0x00}), Role::Client, "fragmented control frame");
  expect_error(bytes({0x08, 0x00}), Role::Client, "fragmented control frame");
  expect_error(bytes({0x89, 0x7E, 0x00, 0x7E}), Role::Client,
               "control frame payload over 125 bytes");
  // A 16-bit length is illegal for control frames even when it is small.
  expect_error(bytes({0x8A, 0x7E, 0x00, 0x05}), Role::Client,
               "control frame payload over 125 bytes");
  const Parsed ok = parse(bytes({0x89, 0x7D}) + std::string(125, 'p'), Role::Client);
  ASSERT_EQ(ok.frames.size(), 1u);
  EXPECT_EQ(ok.frames[0].payload.size(), 125u);
}

TEST_P(FrameParserTest, SixtyFourBitLengthWithHighBitFails) {
  expect_error(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}), Role::Client,
               "64-bit payload length with the high bit set");
}

TEST_P(FrameParserTest, BadFirstBytesFailBeforeTheRestOfTheHeader) {
  // Two bytes of a frame whose header would be 14 bytes long.
  const Parsed p = parse(bytes({0x83, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}), Role::Server);
  ASSERT_TRUE(p.error);
  if (GetParam().kind == Split::OneByte) {
    EXPECT_EQ(p.error_after, 2u);
  }
}

TEST_P(FrameParserTest, ErrorAfterValidFrames) {
  const Parsed p = parse(bytes({0x81, 0x01, 'a', 0x82, 0x00, 0x8F, 0x00}), Role::Client);
  EXPECT_EQ(p.frames.size(), 2u);
  EXPECT_TRUE(p.error);
}

TEST(FrameParser, StaysFailed) {
  FrameParser parser(Role::Client);
  std::string bad = bytes({0xF1, 0x00, 0x81, 0x00});
  EXPECT_EQ(parser.next(bad).event, FrameParser::Event::Error);
  std::string good = bytes({0x81, 0x00});
  EXPECT_EQ(parser.next(good).event, FrameParser::Event::Error);
}

TEST(FrameParser, Rsv1AllowedOnlyOnFirstDataFrameOnceNegotiated) {
  FrameParser parser(Role::Client);
  parser.set_rsv1_allowed(true);
  std::string first = bytes({0x41, 0x01, 'x'});  // RSV1 + Text, not FIN
  auto step = parser.next(first);
  ASSERT_EQ(step.event, FrameParser::Event::Header);
  EXPECT_TRUE(parser.header().rsv1);
  step = parser.next(std::span<char>(first).subspan(step.consumed));
  EXPECT_EQ(step.event, FrameParser::Event::Payload);
  std::string continuation = bytes({0xC0, 0x00});  // RSV1 on a continuation
  EXPECT_EQ(parser.next(continuation).event, FrameParser::Event::Error);

  FrameParser control(Role::Client);
  control.set_rsv1_allowed(true);
  std::string ping = bytes({0xC9, 0x00});
  EXPECT_EQ(control.next(ping).event, FrameParser::Event::Error);
}

TEST(FrameParser, EmptyFrameYieldsOneEmptyCompletePiece) {
  FrameParser parser(Role::Client);
  std::string input = bytes({0x82, 0x00});
  auto step = parser.next(input);
  ASSERT_EQ(step.event, FrameParser::Event::Header);
  EXPECT_EQ(step.consumed, 2u);
  step = parser.next(std::span<char>());
  EXPECT_EQ(step.event, FrameParser::Event::Payload);
  EXPECT_TRUE(step.frame_complete);
  EXPECT_TRUE(step.payload.empty());
  EXPECT_EQ(parser.next(std::span<char>()).event, FrameParser::Event::NeedMore);
}

TEST(FrameParser, PayloadIsAViewIntoTheInput) {
  FrameParser parser(Role::Client);
  std::string input = bytes({0x82, 0x03, 'a', 'b', 'c'});
  auto step = parser.next(input);
  step = parser.next(std::span<char>(input).subspan(step.consumed));
  ASSERT_EQ(step.event, FrameParser::Event::Payload);
  EXPECT_EQ(step.payload.data(), input.data() + 2);
  EXPECT_EQ(step.payload.size(), 3u);
}

}  // namespace
}  // namespace parley::ws
