#include "ws/mask.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace parley::ws {
namespace {

void reference_mask(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  for (std::size_t i = 0; i < len; ++i)
    data[i] = static_cast<char>(data[i] ^ mask[(offset + i) % 4]);
}

TEST(Mask, RfcExample) {
  // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
  std::string data = "Hello";
  apply_mask(data.data(), data.size(), {0x37, 0xfa, 0x21, 0x3d});
  EXPECT_EQ(data, "\x7f\x9f\x4d\x51\x58");
}

TEST(Mask, MatchesReferenceForEveryLengthAlignmentAndPhase) {
  std::mt19937 rng(3);
  const MaskKey mask = {0x01, 0x82, 0x43, 0xf4};
  std::vector<char> buffer(128);
  for (std::size_t alignment = 0; alignment < 8; ++alignment) {
    for (std::size_t len = 0; len <= 70; ++len) {
      for (std::size_t offset = 0; offset < 9; ++offset) {
        for (auto& c : buffer) c = static_cast<char>(rng());
        std::vector<char> expected = buffer;
        reference_mask(expected.data() + alignment, len, mask, offset);
        apply_mask(buffer.data() + alignment, len, mask, offset);
        ASSERT_EQ(buffer, expected) << alignment << " " << len << " " << offset;
      }
    }
  }
}

TEST(Mask, PiecewiseEqualsWhole) {
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  const MaskKey mask = {0xde, 0xad, 0xbe, 0xef};
  std::string whole = data;
  apply_mask(whole.data(), whole.size(), mask);
  std::string pieces = data;
  for (std::size_t pos = 0, n = 1; pos < pieces.size(); pos += n, n = n % 13 + 1) {
    const std::size_t len = std::min(n, pieces.size() - pos);
    apply_mask(pieces.data() + pos, len, mask, pos);
  }
  EXPECT_EQ(pieces, whole);
  apply_mask(whole.data(), whole.size(), mask);  // masking twice restores
  EXPECT_EQ(whole, data);
}

TEST(Mask, RandomMasksDiffer) {
  // Not a randomness test: just that the key comes from somewhere.
  bool any_different = false;
  const MaskKey first = make_random_mask();
  for (int i = 0; i < 8 && !any_different; ++i) any_different = make_random_mask() != first;
  EXPECT_TRUE(any_different);
}

}  // namespace
}  // namespace parley::ws
