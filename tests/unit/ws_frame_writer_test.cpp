#include "ws/frame_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace parley::ws {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

constexpr MaskKey kRfcMask = {0x37, 0xfa, 0x21, 0x3d};

// RFC 6455 §5.7 examples.
TEST(FrameWriter, UnmaskedHello) {
  EXPECT_EQ(encode_frame(Opcode::Text, "Hello"), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(FrameWriter, MaskedHello) {
  std::string out;
  append_masked_frame(out, Opcode::Text, "Hello", kRfcMask);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameWriter, FragmentedHello) {
  std::string out;
  append_frame(out, Opcode::Text, "Hel", false);
  append_frame(out, Opcode::Continuation, "lo");
  EXPECT_EQ(out, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
}

TEST(FrameWriter, PingAndMaskedPong) {
  EXPECT_EQ(encode_frame(Opcode::Ping, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  std::string pong;
  append_masked_frame(pong, Opcode::Pong, "Hello", kRfcMask);
  EXPECT_EQ(pong, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameWriter, SixteenBitLength) {
  const std::string payload(256, 'x');
  const std::string frame = encode_frame(Opcode::Binary, payload);
  EXPECT_EQ(frame.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(frame.substr(4), payload);
}

TEST(FrameWriter, SixtyFourBitLength) {
  const std::string payload(65536, 'x');
  const std::string frame = encode_frame(Opcode::Binary, payload);
  EXPECT_EQ(frame.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(frame.substr(10), payload);
}

TEST(FrameWriter, HeaderSizesAtLengthBoundaries) {
  EXPECT_EQ(frame_header_size(0), 2u);
  EXPECT_EQ(frame_header_size(125), 2u);
  EXPECT_EQ(frame_header_size(126), 4u);
  EXPECT_EQ(frame_header_size(65535), 4u);
  EXPECT_EQ(frame_header_size(65536), 10u);
  EXPECT_EQ(frame_header_size(125, true), 6u);
  EXPECT_EQ(frame_header_size(65536, true), 14u);
  for (std::size_t len : {0, 1, 125, 126, 127, 65535, 65536, 70000}) {
    EXPECT_EQ(encode_frame(Opcode::Binary, std::string(len, 'a')).size(),
              frame_header_size(len) + len);
    std::string masked;
    append_masked_frame(masked, Opcode::Binary, std::string(len, 'a'), kRfcMask);
    EXPECT_EQ(masked.size(), frame_header_size(len, true) + len);
  }
  EXPECT_EQ(encode_frame(Opcode::Binary, std::string(126, 'a')).substr(0, 4),
            bytes({0x82, 126, 0, 126}));
  EXPECT_EQ(encode_frame(Opcode::Binary, std::string(65535, 'a')).substr(0, 4),
            bytes({0x82, 126, 0xff, 0xff}));
}

TEST(FrameWriter, AppendKeepsExistingBytes) {
  std::string out = "prefix";
  append_frame(out, Opcode::Pong, "");
  EXPECT_EQ(out, "prefix" + bytes({0x8a, 0x00}));
}

TEST(FrameWriter, CloseFrame) {
  EXPECT_EQ(encode_close_frame(1000, "bye"), bytes({0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}));
  EXPECT_EQ(encode_close_frame(4999), bytes({0x88, 0x02, 0x13, 0x87}));
}

TEST(FrameWriter, CloseReasonIsTruncatedOnUtf8Boundary) {
  // 121 ASCII bytes then a 3-byte euro sign: 124 bytes, one too many. Cutting
  // at 123 would split the euro sign, so it is dropped whole.
  const std::string reason = std::string(121, 'r') + "\xe2\x82\xac";
  const std::string frame = encode_close_frame(1001, reason);
  ASSERT_EQ(frame.size(), 2u + 2u + 121u);
  EXPECT_EQ(frame.substr(4), std::string(121, 'r'));
  const std::string exact = std::string(120, 'r') + "\xe2\x82\xac";  // exactly 123 bytes
  EXPECT_EQ(encode_close_frame(1001, exact).substr(4), exact);
  EXPECT_EQ(encode_close_frame(1001, std::string(500, 'x')).size(), 2u + 125u);
}

}  // namespace
}  // namespace parley::ws
