#include "ws/utf8_reference.h"

#include <array>
#include <cstring>

namespace parley::ws::detail {
namespace {

// Bytes fall into classes that behave identically in every state.
enum ByteClass : uint8_t {
  kAscii,    // 00..7F
  kCont80,   // 80..8F
  kCont90,   // 90..9F
  kContA0,   // A0..BF
  kInvalid,  // C0, C1 (always overlong), F5..FF (above U+10FFFF)
  kLead2,    // C2..DF
  kLeadE0,   // E0: next must be A0..BF (else overlong)
  kLead3,    // E1..EC, EE, EF
  kLeadED,   // ED: next must be 80..9F (else surrogate)
  kLeadF0,   // F0: next must be 90..BF (else overlong)
  kLead4,    // F1..F3
  kLeadF4,   // F4: next must be 80..8F (else above U+10FFFF)
  kClassCount,
};

// kAccept = 0 and kReject = 1 match Utf8Reference::complete() and failed().
enum State : uint8_t {
  kAccept,
  kReject,
  kNeed1,    // one more 80..BF
  kNeed2,    // two more 80..BF
  kNeed3,    // three more 80..BF
  kAfterE0,  // then A0..BF, then one more
  kAfterED,  // then 80..9F, then one more
  kAfterF0,  // then 90..BF, then two more
  kAfterF4,  // then 80..8F, then two more
  kStateCount,
};

constexpr uint8_t byte_class(int b) {
  if (b <= 0x7F) return kAscii;
  if (b <= 0x8F) return kCont80;
  if (b <= 0x9F) return kCont90;
  if (b <= 0xBF) return kContA0;
  if (b <= 0xC1) return kInvalid;
  if (b <= 0xDF) return kLead2;
  if (b == 0xE0) return kLeadE0;
  if (b == 0xED) return kLeadED;
  if (b <= 0xEF) return kLead3;
  if (b == 0xF0) return kLeadF0;
  if (b <= 0xF3) return kLead4;
  if (b == 0xF4) return kLeadF4;
  return kInvalid;
}

constexpr std::array<uint8_t, 256> make_byte_classes() {
  std::array<uint8_t, 256> classes{};
  for (int b = 0; b < 256; ++b) classes[b] = byte_class(b);
  return classes;
}

using TransitionTable = std::array<std::array<uint8_t, kClassCount>, kStateCount>;

constexpr TransitionTable make_transitions() {
  TransitionTable t{};
  for (auto& row : t) row.fill(kReject);
  t[kAccept][kAscii] = kAccept;
  t[kAccept][kLead2] = kNeed1;
  t[kAccept][kLeadE0] = kAfterE0;
  t[kAccept][kLead3] = kNeed2;
  t[kAccept][kLeadED] = kAfterED;
  t[kAccept][kLeadF0] = kAfterF0;
  t[kAccept][kLead4] = kNeed3;
  t[kAccept][kLeadF4] = kAfterF4;
  for (uint8_t cont : {kCont80, kCont90, kContA0}) {
    t[kNeed1][cont] = kAccept;
    t[kNeed2][cont] = kNeed1;
    t[kNeed3][cont] = kNeed2;
  }
  t[kAfterE0][kContA0] = kNeed1;
  t[kAfterED][kCont80] = kNeed1;
  t[kAfterED][kCont90] = kNeed1;
  t[kAfterF0][kCont90] = kNeed2;
  t[kAfterF0][kContA0] = kNeed2;
  t[kAfterF4][kCont80] = kNeed2;
  return t;
}

constexpr std::array<uint8_t, 256> kByteClass = make_byte_classes();
constexpr TransitionTable kTransition = make_transitions();

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

}  // namespace

std::size_t Utf8Reference::feed(std::string_view bytes) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const auto* p = begin;
  uint8_t state = state_;
  if (state == kReject) return 0;
  while (p != end) {
    if (state == kAccept) {
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, sizeof word);
        if (word & kHighBits) break;
        p += 8;
      }
      while (p != end && *p < 0x80) ++p;
      if (p == end) break;
    }
    state = kTransition[state][kByteClass[*p]];
    if (state == kReject) break;
    ++p;
  }
  state_ = state;
  return static_cast<std::size_t>(p - begin);
}

bool is_valid_utf8_reference(std::string_view bytes) {
  Utf8Reference v;
  v.feed(bytes);
  return v.complete();
}

}  // namespace parley::ws::detail
