// The UTF-8 validator's x86 kernels: SSE2 skips ASCII 64 bytes at a time,
// SSSE3 and AVX2 validate whole blocks (Keiser & Lemire). The DFA they fall
// back on at block edges is ws/utf8_dfa.h.
#include "ws/utf8_dfa.h"

#ifdef PARLEY_WS_X86
#include <immintrin.h>

namespace parley::ws::detail {
namespace {

inline const Byte* skip_ascii_sse2(const Byte* p, const Byte* end) {
  const auto load = [](const Byte* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  };
  while (end - p >= 64) {
    const __m128i any =
        _mm_or_si128(_mm_or_si128(load(p), load(p + 16)), _mm_or_si128(load(p + 32), load(p + 48)));
    if (_mm_movemask_epi8(any) != 0) break;
    p += 64;
  }
  while (end - p >= 16) {
    const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (high != 0) return p + __builtin_ctz(static_cast<unsigned>(high));
    p += 16;
  }
  return skip_ascii_words(p, end);
}

// Keiser & Lemire, "Validating UTF-8 in less than one instruction per byte"
// (2021), as in simdjson: three nibble lookups classify each pair (previous
// byte, byte) into error bits (too short, too long, overlong, surrogate, too
// large, two continuations), and a saturating subtraction marks the bytes that
// the lead two or three bytes back requires to be continuations. Any bit left
// set is an error. The tables are the paper's; each is written twice so AVX2's
// per-lane shuffle sees it in both lanes.
constexpr uint8_t kTooShort = 1 << 0;      // 11______ 0_______ or 11______ 11______
constexpr uint8_t kTooLong = 1 << 1;       // 0_______ 10______
constexpr uint8_t kOverlong3 = 1 << 2;     // 11100000 100_____
constexpr uint8_t kTooLarge = 1 << 3;      // 11110100 1001____ etc.
constexpr uint8_t kSurrogate = 1 << 4;     // 11101101 101_____
constexpr uint8_t kOverlong2 = 1 << 5;     // 1100000_ 10______
constexpr uint8_t kTooLarge1000 = 1 << 6;  // 11110101 1000____ etc.
constexpr uint8_t kOverlong4 = 1 << 6;     // 11110000 1000____
constexpr uint8_t kTwoConts = 1 << 7;      // 10______ 10______
constexpr uint8_t kCarry = kTooShort | kTooLong | kTwoConts;

template <std::size_t N>
constexpr std::array<uint8_t, 32> twice(const uint8_t (&t)[N]) {
  static_assert(N == 16);
  std::array<uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = t[i % 16];
  return out;
}

// clang-format off
// Indexed by the high nibble of the previous byte.
alignas(32) constexpr uint8_t kByte1HighRaw[16] = {
    kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,  // 0_______
    kTwoConts, kTwoConts, kTwoConts, kTwoConts,                                      // 10______
    kTooShort | kOverlong2,                                                          // 1100____
    kTooShort,                                                                       // 1101____
    kTooShort | kOverlong3 | kSurrogate,                                             // 1110____
    kTooShort | kTooLarge | kTooLarge1000 | kOverlong4,                              // 1111____
};
// Indexed by the low nibble of the previous byte.
alignas(32) constexpr uint8_t kByte1LowRaw[16] = {
    kCarry | kOverlong3 | kOverlong2 | kOverlong4,     // ____0000
    kCarry | kOverlong2,                               // ____0001
    kCarry,                                            // ____0010
    kCarry,                                            // ____0011
    kCarry | kTooLarge,                                // ____0100
    kCarry | kTooLarge | kTooLarge1000,                // ____0101
    kCarry | kTooLarge | kTooLarge1000,                // ____0110
    kCarry | kTooLarge | kTooLarge1000,                // ____0111
    kCarry | kTooLarge | kTooLarge1000,                // ____1000
    kCarry | kTooLarge | kTooLarge1000,                // ____1001
    kCarry | kTooLarge | kTooLarge1000,                // ____1010
    kCarry | kTooLarge | kTooLarge1000,                // ____1011
    kCarry | kTooLarge | kTooLarge1000,                // ____1100
    kCarry | kTooLarge | kTooLarge1000 | kSurrogate,   // ____1101
    kCarry | kTooLarge | kTooLarge1000,                // ____1110
    kCarry | kTooLarge | kTooLarge1000,                // ____1111
};
// Indexed by the high nibble of the byte itself.
alignas(32) constexpr uint8_t kByte2HighRaw[16] = {
    kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,  // 0___
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge1000 | kOverlong4,  // 1000____
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge,                   // 1001____
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                   // 1010____
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                   // 1011____
    kTooShort, kTooShort, kTooShort, kTooShort,                                   // 11______
};
// clang-format on

alignas(32) constexpr std::array<uint8_t, 32> kByte1High = twice(kByte1HighRaw);
alignas(32) constexpr std::array<uint8_t, 32> kByte1Low = twice(kByte1LowRaw);
alignas(32) constexpr std::array<uint8_t, 32> kByte2High = twice(kByte2HighRaw);

// The tables as vectors, for 16- and 32-byte blocks.
#define PARLEY_TABLE_16(t) _mm_load_si128(reinterpret_cast<const __m128i*>(t.data()))
#define PARLEY_TABLE_32(t) _mm256_load_si256(reinterpret_cast<const __m256i*>(t.data()))

// The SIMD kernels check the input in consecutive blocks, each with the block
// before it as context (zeros - "ASCII" - before the first one, which starts
// on a code point boundary). The pointer advances by a constant, so nothing on
// the way from one block to the next waits for data, and an all-ASCII block
// only needs the previous one not to end inside a sequence. When every block
// up to p has no error bits, the input up to the start of the sequence holding
// p[-1] is valid and complete (Keiser & Lemire's theorem, applied to that
// prefix: a byte's error bits depend only on it and the 3 bytes before it).
// So at the first block with error bits the DFA takes over from that point and
// stops on the exact failing byte. The last, partial block is the last 16 or 32
// bytes of the input, overlapping checked ones, plus the "incomplete" test; if
// the input ends inside a sequence, the DFA works out the state it ends in.

// Error bits of a block `in`, given the block before it.
__attribute__((target("ssse3"))) inline __m128i block_errors_16(__m128i in, __m128i prev) {
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i prev1 = _mm_alignr_epi8(in, prev, 15);
  const __m128i prev2 = _mm_alignr_epi8(in, prev, 14);
  const __m128i prev3 = _mm_alignr_epi8(in, prev, 13);
  const __m128i byte_1_high = _mm_shuffle_epi8(PARLEY_TABLE_16(kByte1High),
                                               _mm_and_si128(_mm_srli_epi16(prev1, 4), nibble));
  const __m128i byte_1_low =
      _mm_shuffle_epi8(PARLEY_TABLE_16(kByte1Low), _mm_and_si128(prev1, nibble));
  const __m128i byte_2_high =
      _mm_shuffle_epi8(PARLEY_TABLE_16(kByte2High), _mm_and_si128(_mm_srli_epi16(in, 4), nibble));
  const __m128i special = _mm_and_si128(_mm_and_si128(byte_1_high, byte_1_low), byte_2_high);
  // Only prev2 >= E0 (third byte of a 3- or 4-byte sequence) or prev3 >= F0
  // (fourth byte) keep their high bit after these subtractions.
  const __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8(0xE0 - 0x80));
  const __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(0xF0 - 0x80));
  const __m128i must_be_cont =
      _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(static_cast<char>(0x80)));
  return _mm_xor_si128(must_be_cont, special);
}

// Nonzero when a block ends inside a sequence (or on a lead byte): the last
// byte >= C0, the one before >= E0 or the one before that >= F0. The next
// block must then start with continuations, which an all-ASCII block does not.
__attribute__((target("ssse3"))) inline __m128i block_incomplete_16(__m128i in) {
  const __m128i limits =
      _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, static_cast<char>(0xF0 - 1),
                    static_cast<char>(0xE0 - 1), static_cast<char>(0xC0 - 1));
  return _mm_subs_epu8(in, limits);
}

__attribute__((target("avx2"))) inline __m256i block_errors_32(__m256i in, __m256i prev) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  // AVX2 shifts bytes within 128-bit lanes: [prev.high, in.low] supplies the
  // bytes shifted in.
  const __m256i carried = _mm256_permute2x128_si256(prev, in, 0x21);
  const __m256i prev1 = _mm256_alignr_epi8(in, carried, 15);
  const __m256i prev2 = _mm256_alignr_epi8(in, carried, 14);
  const __m256i prev3 = _mm256_alignr_epi8(in, carried, 13);
  const __m256i byte_1_high = _mm256_shuffle_epi8(
      PARLEY_TABLE_32(kByte1High), _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble));
  const __m256i byte_1_low =
      _mm256_shuffle_epi8(PARLEY_TABLE_32(kByte1Low), _mm256_and_si256(prev1, nibble));
  const __m256i byte_2_high = _mm256_shuffle_epi8(
      PARLEY_TABLE_32(kByte2High), _mm256_and_si256(_mm256_srli_epi16(in, 4), nibble));
  const __m256i special = _mm256_and_si256(_mm256_and_si256(byte_1_high, byte_1_low), byte_2_high);
  const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8(0xE0 - 0x80));
  const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8(0xF0 - 0x80));
  const __m256i must_be_cont =
      _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8(static_cast<char>(0x80)));
  return _mm256_xor_si256(must_be_cont, special);
}

__attribute__((target("avx2"))) inline __m256i block_incomplete_32(__m256i in) {
  const __m256i limits =
      _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, static_cast<char>(0xF0 - 1),
                       static_cast<char>(0xE0 - 1), static_cast<char>(0xC0 - 1));
  return _mm256_subs_epu8(in, limits);
}

#undef PARLEY_TABLE_16
#undef PARLEY_TABLE_32

// The DFA from the start of the sequence holding unchecked[-1] (a code point
// boundary, see above; so is `start`, where the blocks began) to `end`.
// Returns where it stopped: the failing byte, or end.
inline const Byte* dfa_from_block(unsigned& state, const Byte* start, const Byte* unchecked,
                                  const Byte* end) {
  const Byte* from = start;
  const std::ptrdiff_t back = std::min<std::ptrdiff_t>(4, unchecked - start);
  for (std::ptrdiff_t k = 1; k <= back; ++k) {
    if ((unchecked[-k] & 0xC0) != 0x80) {
      from = unchecked - k;
      break;
    }
  }
  state = kUtf8Accept;
  return dfa_exact(state, from, end);
}

// The context for a block at `at`: the 3 bytes before it (zeros before
// `start`, a code point boundary) as the top bytes of the block "before" it.
// Only those 3 bytes of the previous block enter block_errors.
inline uint32_t context_top(const Byte* start, const Byte* at) {
  uint32_t top = 0;
  for (int k = 1; k <= 3; ++k) {
    if (at - start >= k) top |= uint32_t{at[-k]} << (32 - 8 * k);
  }
  return top;
}

__attribute__((target("ssse3"))) inline __m128i load_16(const Byte* at) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
}

__attribute__((target("ssse3"))) inline bool is_zero_16(__m128i v) {
  return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) == 0xFFFF;
}

// Error bits of the last 16 bytes of [start, end) (end - start >= 16), when
// the bytes before them have been checked: bytes checked before have no error
// bits now either (a byte's bits depend on it and the 3 before it, the same
// bytes as when it was checked), so a zero result means the whole input is
// valid, and ends on a code point boundary.
__attribute__((target("ssse3"))) inline __m128i last_block_errors_16(const Byte* start,
                                                                     const Byte* end) {
  const __m128i last = load_16(end - 16);
  const __m128i context = _mm_set_epi32(static_cast<int>(context_top(start, end - 16)), 0, 0, 0);
  return _mm_or_si128(block_errors_16(last, context), block_incomplete_16(last));
}

// The SIMD kernels, from a code point boundary `p` (state kAccept). They return
// end (state kAccept, or mid-sequence when the DFA found the input ends in one)
// or the failing byte (state kUtf8Reject).

__attribute__((target("ssse3"))) inline bool ascii_64_16(const Byte* p) {
  const __m128i any = _mm_or_si128(_mm_or_si128(load_16(p), load_16(p + 16)),
                                   _mm_or_si128(load_16(p + 32), load_16(p + 48)));
  return _mm_movemask_epi8(any) == 0;
}

__attribute__((target("ssse3"))) const Byte* blocks_16(unsigned& state, const Byte* p,
                                                       const Byte* end) {
  const Byte* const start = p;
  __m128i prev = _mm_setzero_si128();
  __m128i prev_incomplete = _mm_setzero_si128();
  while (end - p >= 16) {
    const __m128i in = load_16(p);
    if (_mm_movemask_epi8(in) == 0) {
      if (!is_zero_16(prev_incomplete)) return dfa_from_block(state, start, p, end);
      prev_incomplete = _mm_setzero_si128();
      if (end - p >= 80 && ascii_64_16(p + 16)) {  // an ASCII run: 64 bytes per test
        p += 16;
        do {
          p += 64;
        } while (end - p >= 64 && ascii_64_16(p));
        prev = load_16(p - 16);
        continue;
      }
    } else {
      if (!is_zero_16(block_errors_16(in, prev))) return dfa_from_block(state, start, p, end);
      prev_incomplete = block_incomplete_16(in);
    }
    prev = in;
    p += 16;
  }
  // On error bits the DFA takes over from p, the first byte not yet checked.
  if (p == end) {
    if (is_zero_16(prev_incomplete)) return end;
  } else if (end - start >= 16) {
    if (is_zero_16(last_block_errors_16(start, end))) return end;
  }
  return dfa_from_block(state, start, p, end);
}

__attribute__((target("avx2"))) inline __m256i load_32(const Byte* at) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
}

__attribute__((target("avx2"))) inline bool is_zero_32(__m256i v) {
  return _mm256_testz_si256(v, v) != 0;
}

__attribute__((target("avx2"))) inline bool ascii_64_32(const Byte* p) {
  return _mm256_movemask_epi8(_mm256_or_si256(load_32(p), load_32(p + 32))) == 0;
}

__attribute__((target("avx2"))) inline __m256i last_block_errors_32(const Byte* start,
                                                                    const Byte* end) {
  const __m256i last = load_32(end - 32);
  const __m256i context =
      _mm256_set_epi32(static_cast<int>(context_top(start, end - 32)), 0, 0, 0, 0, 0, 0, 0);
  return _mm256_or_si256(block_errors_32(last, context), block_incomplete_32(last));
}

__attribute__((target("avx2"))) const Byte* blocks_32(unsigned& state, const Byte* p,
                                                      const Byte* end) {
  const Byte* const start = p;
  __m256i prev = _mm256_setzero_si256();
  __m256i prev_incomplete = _mm256_setzero_si256();
  while (end - p >= 32) {
    const __m256i in = load_32(p);
    if (_mm256_movemask_epi8(in) == 0) {
      if (!is_zero_32(prev_incomplete)) return dfa_from_block(state, start, p, end);
      prev_incomplete = _mm256_setzero_si256();
      if (end - p >= 96 && ascii_64_32(p + 32)) {  // an ASCII run: 64 bytes per test
        p += 32;
        do {
          p += 64;
        } while (end - p >= 64 && ascii_64_32(p));
        prev = load_32(p - 32);
        continue;
      }
    } else {
      if (!is_zero_32(block_errors_32(in, prev))) return dfa_from_block(state, start, p, end);
      prev_incomplete = block_incomplete_32(in);
    }
    prev = in;
    p += 32;
  }
  // On error bits the DFA takes over from p, the first byte not yet checked.
  if (p == end) {
    if (is_zero_32(prev_incomplete)) return end;
  } else if (end - start >= 32) {
    if (is_zero_32(last_block_errors_32(start, end))) return end;
  } else if (end - start >= 16) {  // short input: its first and last 16 bytes
    const __m128i first = block_errors_16(load_16(start), _mm_setzero_si128());
    if (is_zero_16(_mm_or_si128(first, last_block_errors_16(start, end)))) return end;
  }
  return dfa_from_block(state, start, p, end);
}

// The DFA finishes a sequence left open by the previous feed(), then ASCII is
// skipped and the blocks take over at the first other byte.
template <const Byte* (*blocks)(unsigned&, const Byte*, const Byte*)>
[[gnu::always_inline]] inline std::size_t validate_blocks(uint8_t& state_io,
                                                          std::string_view bytes) {
  const auto* const begin = reinterpret_cast<const Byte*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const Byte* p = begin;
  unsigned s = state_io;
  if (s == kUtf8Reject) return 0;
  while (p != end && s != kUtf8Reject) {
    if (s != kUtf8Accept) {
      p = dfa_to_boundary(s, p, end);
    } else {
      // A leading ASCII run (or all of a short ASCII message) costs less here
      // than in the blocks' loop, which has more to set up.
      p = skip_ascii_sse2(p, end);
      if (p != end) p = blocks(s, p, end);
    }
  }
  state_io = static_cast<uint8_t>(s);
  return static_cast<std::size_t>(p - begin);
}

}  // namespace

std::size_t utf8_sse2(uint8_t& state, std::string_view bytes) {
  return validate_dfa<skip_ascii_sse2>(state, bytes);
}

__attribute__((target("ssse3"))) std::size_t utf8_ssse3(uint8_t& state, std::string_view bytes) {
  return validate_blocks<blocks_16>(state, bytes);
}

__attribute__((target("avx2"))) std::size_t utf8_avx2(uint8_t& state, std::string_view bytes) {
  return validate_blocks<blocks_32>(state, bytes);
}

}  // namespace parley::ws::detail

#endif  // PARLEY_WS_X86
