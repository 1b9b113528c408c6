// The UTF-8 automaton shared by the validator's kernels (ws/utf8.cpp: the
// scalar one and the public entry points; ws/utf8_simd.cpp: the SSE2, SSSE3
// and AVX2 ones). Internal to src/ws: include ws/utf8.h instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ws/utf8.h"

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))
#define PARLEY_WS_X86 1
#endif

namespace parley::ws::detail {

using Byte = unsigned char;

// The DFA of Unicode Table 3-7 (the same automaton as utf8_reference.cpp,
// written out by byte ranges here), in the "shift DFA" encoding: a state is a
// bit offset (6 × its number) into a 64-bit row per byte value, and
// `row[b] >> state` has the next state in its low 6 bits. One lookup that does
// not depend on the state plus one shift per byte, instead of two dependent
// lookups: the loop-carried chain is a single shift.
enum State : unsigned {
  kAccept,
  kReject,
  kNeed1,    // one more 80..BF
  kNeed2,    // two more 80..BF
  kNeed3,    // three more 80..BF
  kAfterE0,  // then A0..BF (else overlong), then one more
  kAfterED,  // then 80..9F (else surrogate), then one more
  kAfterF0,  // then 90..BF (else overlong), then two more
  kAfterF4,  // then 80..8F (else above U+10FFFF), then two more
  kStateCount,
};

inline constexpr unsigned kStateBits = 6;
static_assert(kStateCount * kStateBits <= 64);
static_assert(kAccept * kStateBits == kUtf8Accept && kReject * kStateBits == kUtf8Reject);

constexpr State next_state(State s, unsigned b) {
  const bool cont = b >= 0x80 && b <= 0xBF;
  switch (s) {
    case kAccept:
      if (b <= 0x7F) return kAccept;
      if (b >= 0xC2 && b <= 0xDF) return kNeed1;
      if (b == 0xE0) return kAfterE0;
      if (b == 0xED) return kAfterED;
      if (b >= 0xE1 && b <= 0xEF) return kNeed2;
      if (b == 0xF0) return kAfterF0;
      if (b >= 0xF1 && b <= 0xF3) return kNeed3;
      if (b == 0xF4) return kAfterF4;
      return kReject;  // continuation, C0, C1, F5..FF
    case kNeed1:
      return cont ? kAccept : kReject;
    case kNeed2:
      return cont ? kNeed1 : kReject;
    case kNeed3:
      return cont ? kNeed2 : kReject;
    case kAfterE0:
      return b >= 0xA0 && b <= 0xBF ? kNeed1 : kReject;
    case kAfterED:
      return b >= 0x80 && b <= 0x9F ? kNeed1 : kReject;
    case kAfterF0:
      return b >= 0x90 && b <= 0xBF ? kNeed2 : kReject;
    case kAfterF4:
      return b >= 0x80 && b <= 0x8F ? kNeed2 : kReject;
    default:
      return kReject;
  }
}

constexpr std::array<uint64_t, 256> make_rows() {
  std::array<uint64_t, 256> rows{};
  for (unsigned b = 0; b < 256; ++b) {
    for (unsigned s = 0; s < kStateCount; ++s) {
      const uint64_t next = next_state(static_cast<State>(s), b) * kStateBits;
      rows[b] |= next << (s * kStateBits);
    }
  }
  return rows;
}

inline constexpr std::array<uint64_t, 256> kRows = make_rows();

// A byte at a time until the end or the failing byte, which it returns.
inline const Byte* dfa_exact(unsigned& state, const Byte* p, const Byte* end) {
  unsigned s = state;
  for (; p != end; ++p) {
    s = static_cast<unsigned>(kRows[*p] >> s) & 63;
    if (s == kUtf8Reject) break;
  }
  state = s;
  return p;
}

// Until the state is back on a code point boundary (at most 3 bytes).
inline const Byte* dfa_to_boundary(unsigned& state, const Byte* p, const Byte* end) {
  while (p != end && state != kUtf8Accept) {
    state = static_cast<unsigned>(kRows[*p] >> state) & 63;
    if (state == kUtf8Reject) break;
    ++p;
  }
  return p;
}

// The next 16 bytes (or fewer at the end), checked for rejection once: it is
// absorbing, so a block that ends rejected is rerun by dfa_exact to find its
// failing byte. x86 shifts take the count mod 64, so `& 63` costs nothing and
// the chain per byte is one shift.
inline const Byte* dfa_block(unsigned& state, const Byte* p, const Byte* end) {
  constexpr std::ptrdiff_t kBlock = 16;
  if (end - p < kBlock) return dfa_exact(state, p, end);
  uint64_t s = state;
#pragma GCC unroll 16
  for (std::ptrdiff_t k = 0; k < kBlock; ++k) s = kRows[p[k]] >> (s & 63);
  if ((s & 63) == kUtf8Reject) return dfa_exact(state, p, p + kBlock);
  state = static_cast<unsigned>(s & 63);
  return p + kBlock;
}

inline constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// First byte of [p, end) that is not ASCII, or end.
inline const Byte* skip_ascii_words(const Byte* p, const Byte* end) {
  while (end - p >= 16) {
    uint64_t a, b;
    std::memcpy(&a, p, sizeof a);
    std::memcpy(&b, p + 8, sizeof b);
    if ((a | b) & kHighBits) break;
    p += 16;
  }
  while (end - p >= 8) {
    uint64_t a;
    std::memcpy(&a, p, sizeof a);
    if (a & kHighBits) break;
    p += 8;
  }
  while (p != end && *p < 0x80) ++p;
  return p;
}

// ASCII runs skipped by `skip_ascii`, everything else through dfa_block.
template <const Byte* (*skip_ascii)(const Byte*, const Byte*)>
std::size_t validate_dfa(uint8_t& state_io, std::string_view bytes) {
  const auto* const begin = reinterpret_cast<const Byte*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const Byte* p = begin;
  unsigned s = state_io;
  if (s == kUtf8Reject) return 0;
  while (p != end) {
    if (s == kUtf8Accept && *p < 0x80) {
      p = skip_ascii(p, end);
      if (p == end) break;
    }
    p = dfa_block(s, p, end);
    if (s == kUtf8Reject) break;
  }
  state_io = static_cast<uint8_t>(s);
  return static_cast<std::size_t>(p - begin);
}

#ifdef PARLEY_WS_X86
// ws/utf8_simd.cpp
std::size_t utf8_sse2(uint8_t& state, std::string_view bytes);
std::size_t utf8_ssse3(uint8_t& state, std::string_view bytes);
std::size_t utf8_avx2(uint8_t& state, std::string_view bytes);
#endif

}  // namespace parley::ws::detail
