#include "ws/mask.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include <openssl/rand.h>

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))
#include <immintrin.h>
#define PARLEY_WS_X86 1
#endif

namespace parley::ws {
namespace detail {
namespace {

// The four mask bytes starting at payload byte `phase`, as they lie in memory.
// Since 4 divides 8, 16 and 32, repeating this word masks any block whose first
// byte is payload byte `phase` (mod 4). memcpy keeps it endianness-agnostic.
uint32_t mask_word32(MaskKey mask, std::size_t phase) {
  const unsigned char bytes[4] = {mask[phase & 3], mask[(phase + 1) & 3], mask[(phase + 2) & 3],
                                  mask[(phase + 3) & 3]};
  uint32_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

template <typename Word>
void xor_word(char* at, Word mask_word) {
  Word word;
  std::memcpy(&word, at, sizeof word);
  word ^= mask_word;
  std::memcpy(at, &word, sizeof word);
}

// No kernel has a byte-at-a-time tail: the last full-width block is loaded and
// masked *before* the main loop and stored after it. It overlaps bytes the loop
// wrote, but with the same values (masked from the same original bytes). The
// SIMD kernels treat the first block the same way, which lets their loop start
// at the first aligned address past data[0].
void mask_word(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  const uint32_t word32 = mask_word32(mask, offset);
  if (len >= 8) {
    const uint64_t word64 = word32 | uint64_t{word32} << 32;
    const uint32_t tail32 = mask_word32(mask, offset + len);  // phase of byte len - 8
    uint64_t tail;
    std::memcpy(&tail, data + len - 8, sizeof tail);
    tail ^= tail32 | uint64_t{tail32} << 32;
    for (std::size_t i = 0; i + 8 <= len; i += 8) xor_word(data + i, word64);
    std::memcpy(data + len - 8, &tail, sizeof tail);
  } else if (len >= 4) {
    uint32_t tail;
    std::memcpy(&tail, data + len - 4, sizeof tail);
    tail ^= mask_word32(mask, offset + len);
    xor_word(data, word32);
    std::memcpy(data + len - 4, &tail, sizeof tail);
  } else {
    for (std::size_t i = 0; i < len; ++i)
      data[i] = static_cast<char>(data[i] ^ mask[(offset + i) & 3]);
  }
}

#ifdef PARLEY_WS_X86
// SSE2 is part of x86-64, so this needs no target attribute.
void mask_sse2(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  if (len < 16) return mask_word(data, len, mask, offset);
  // Head and tail blocks masked up front, aligned loop between: see mask_avx2.
  auto* const head_at = reinterpret_cast<__m128i*>(data);
  auto* const tail_at = reinterpret_cast<__m128i*>(data + len - 16);
  const __m128i head = _mm_xor_si128(_mm_loadu_si128(head_at),
                                     _mm_set1_epi32(static_cast<int>(mask_word32(mask, offset))));
  const __m128i tail = _mm_xor_si128(
      _mm_loadu_si128(tail_at), _mm_set1_epi32(static_cast<int>(mask_word32(mask, offset + len))));
  if (len <= 32) {  // head and tail cover it all
    _mm_storeu_si128(head_at, head);
    _mm_storeu_si128(tail_at, tail);
    return;
  }
  std::size_t i = 16 - (reinterpret_cast<std::uintptr_t>(data) & 15);
  const __m128i word = _mm_set1_epi32(static_cast<int>(mask_word32(mask, offset + i)));
  for (; i + 64 <= len; i += 64) {
    auto* const at = reinterpret_cast<__m128i*>(data + i);
    const __m128i a = _mm_load_si128(at);
    const __m128i b = _mm_load_si128(at + 1);
    const __m128i c = _mm_load_si128(at + 2);
    const __m128i d = _mm_load_si128(at + 3);
    _mm_store_si128(at, _mm_xor_si128(a, word));
    _mm_store_si128(at + 1, _mm_xor_si128(b, word));
    _mm_store_si128(at + 2, _mm_xor_si128(c, word));
    _mm_store_si128(at + 3, _mm_xor_si128(d, word));
  }
  for (; i + 16 <= len; i += 16) {
    auto* const at = reinterpret_cast<__m128i*>(data + i);
    _mm_store_si128(at, _mm_xor_si128(_mm_load_si128(at), word));
  }
  _mm_storeu_si128(head_at, head);
  _mm_storeu_si128(tail_at, tail);
}
#endif

#ifdef PARLEY_WS_X86
// Compiled for AVX2 whatever the build flags; only called when the CPU has it.
__attribute__((target("avx2"))) void mask_avx2(char* data, std::size_t len, MaskKey mask,
                                               std::size_t offset) {
  if (len < 32) return mask_sse2(data, len, mask, offset);
  // The first and last 32 bytes are masked from the original bytes up front
  // and stored last; in between, the loop runs on 32-byte aligned addresses
  // (from 1 to 32 bytes in), so no load or store splits a cache line.
  auto* const head_at = reinterpret_cast<__m256i*>(data);
  auto* const tail_at = reinterpret_cast<__m256i*>(data + len - 32);
  const __m256i head = _mm256_xor_si256(
      _mm256_loadu_si256(head_at), _mm256_set1_epi32(static_cast<int>(mask_word32(mask, offset))));
  const __m256i tail =
      _mm256_xor_si256(_mm256_loadu_si256(tail_at),
                       _mm256_set1_epi32(static_cast<int>(mask_word32(mask, offset + len))));
  if (len <= 64) {  // head and tail cover it all
    _mm256_storeu_si256(head_at, head);
    _mm256_storeu_si256(tail_at, tail);
    return;
  }
  std::size_t i = 32 - (reinterpret_cast<std::uintptr_t>(data) & 31);
  const __m256i word = _mm256_set1_epi32(static_cast<int>(mask_word32(mask, offset + i)));
  for (; i + 128 <= len; i += 128) {
    auto* const at = reinterpret_cast<__m256i*>(data + i);
    const __m256i a = _mm256_load_si256(at);
    const __m256i b = _mm256_load_si256(at + 1);
    const __m256i c = _mm256_load_si256(at + 2);
    const __m256i d = _mm256_load_si256(at + 3);
    _mm256_store_si256(at, _mm256_xor_si256(a, word));
    _mm256_store_si256(at + 1, _mm256_xor_si256(b, word));
    _mm256_store_si256(at + 2, _mm256_xor_si256(c, word));
    _mm256_store_si256(at + 3, _mm256_xor_si256(d, word));
  }
  for (; i + 32 <= len; i += 32) {
    auto* const at = reinterpret_cast<__m256i*>(data + i);
    _mm256_store_si256(at, _mm256_xor_si256(_mm256_load_si256(at), word));
  }
  _mm256_storeu_si256(head_at, head);
  _mm256_storeu_si256(tail_at, tail);
}
#endif

}  // namespace

std::span<const MaskImpl> mask_impls() {
  static const std::vector<MaskImpl> impls = [] {
    std::vector<MaskImpl> found{{"word", mask_word}};
#ifdef PARLEY_WS_X86
    found.push_back({"sse2", mask_sse2});
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) found.push_back({"avx2", mask_avx2});
#endif
    return found;
  }();
  return impls;
}

}  // namespace detail

void apply_mask(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  static const detail::MaskFn best = detail::mask_impls().back().fn;
  best(data, len, mask, offset);
}

MaskKey make_random_mask() {
  MaskKey mask{};
  // RAND_bytes fails only when the CSPRNG cannot be seeded. The frame is still
  // valid with the zero-initialised key, just less protected against proxy
  // cache poisoning; we prefer that to throwing on the data path.
  (void)RAND_bytes(mask.data(), static_cast<int>(mask.size()));
  return mask;
}

}  // namespace parley::ws
