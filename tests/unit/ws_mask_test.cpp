#include "ws/mask.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws/mask_reference.h"

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

// --- Every kernel against the byte-at-a-time reference ---------------------

// Masks buffer[alignment, alignment + len) with `impl` and with the reference,
// in copies of `buffer` whose bytes around the range act as guards.
void expect_kernel_matches(const detail::MaskImpl& impl, const std::vector<char>& buffer,
                           std::size_t alignment, std::size_t len, MaskKey mask,
                           std::size_t offset) {
  std::vector<char> expected = buffer;
  detail::mask_reference(expected.data() + alignment, len, mask, offset);
  std::vector<char> actual = buffer;
  impl.fn(actual.data() + alignment, len, mask, offset);
  ASSERT_EQ(actual, expected) << impl.name << " alignment " << alignment << " len " << len
                              << " offset " << offset;
}

TEST(MaskKernels, ListsWhatTheCpuRunsAndApplyMaskUsesTheWidest) {
  const auto impls = detail::mask_impls();
  ASSERT_FALSE(impls.empty());
  EXPECT_STREQ(impls.front().name, "word");
#if defined(__x86_64__)
  ASSERT_GE(impls.size(), 2u);
  EXPECT_STREQ(impls[1].name, "sse2");
  __builtin_cpu_init();
  EXPECT_EQ(std::string_view(impls.back().name) == "avx2", __builtin_cpu_supports("avx2") != 0);
#endif
  // apply_mask is whichever kernel comes last: same bytes, in any case.
  std::string a(100, 'x');
  std::string b = a;
  apply_mask(a.data(), a.size(), {1, 2, 3, 4}, 3);
  impls.back().fn(b.data(), b.size(), {1, 2, 3, 4}, 3);
  EXPECT_EQ(a, b);
}

TEST(MaskKernels, EveryLengthUpTo200AtEveryAlignmentAndPhase) {
  std::mt19937 rng(11);
  std::vector<char> buffer(200 + 64);
  for (auto& c : buffer) c = static_cast<char>(rng());
  const MaskKey mask = {0x9a, 0x00, 0xff, 0x3c};
  for (const auto& impl : detail::mask_impls()) {
    for (std::size_t len = 0; len <= 200; ++len) {
      for (std::size_t alignment = 0; alignment < 32; ++alignment) {
        for (std::size_t offset = 0; offset < 4; ++offset) {
          expect_kernel_matches(impl, buffer, alignment, len, mask, offset);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(MaskKernels, RandomLengthsTo4096RandomKeysAndMisalignedPointers) {
  std::mt19937 rng(2024);
  std::vector<char> buffer(4096 + 96);
  for (const auto& impl : detail::mask_impls()) {
    for (int round = 0; round < 300; ++round) {
      for (auto& c : buffer) c = static_cast<char>(rng());
      const std::size_t len = rng() % 4097;
      const std::size_t alignment = rng() % 64;
      const MaskKey mask = {static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()),
                            static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
      for (std::size_t offset = 0; offset < 4; ++offset) {
        expect_kernel_matches(impl, buffer, alignment, len, mask, offset);
        if (HasFatalFailure()) return;
      }
      // The phase is taken mod 4 whatever its size (frame_parser passes & 3,
      // frame_writer 0, but the API accepts any payload position).
      expect_kernel_matches(impl, buffer, alignment, len, mask, rng());
      if (HasFatalFailure()) return;
    }
  }
}

TEST(MaskKernels, PiecewiseAtRandomCutsEqualsWhole) {
  std::mt19937 rng(5);
  std::string data(5000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const MaskKey mask = {0x11, 0x22, 0x33, 0x44};
  std::string whole = data;
  detail::mask_reference(whole.data(), whole.size(), mask, 0);
  for (const auto& impl : detail::mask_impls()) {
    std::string pieces = data;
    for (std::size_t pos = 0; pos < pieces.size();) {
      const std::size_t len = std::min<std::size_t>(rng() % 100, pieces.size() - pos);
      impl.fn(pieces.data() + pos, len, mask, pos);
      pos += len;
    }
    EXPECT_EQ(pieces, whole) << impl.name;
  }
}

}  // namespace
}  // namespace parley::ws
