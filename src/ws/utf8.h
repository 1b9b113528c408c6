// Incremental UTF-8 validation for Text messages and Close reasons.
//
// RFC 6455 §8.1 makes a connection fail on invalid UTF-8, and Autobahn (6.4.x)
// checks that it fails *as soon as* the bytes seen can no longer start a valid
// sequence, not at the end of the message. So the specification is a DFA over
// the well-formed sequences of Unicode Table 3-7 (no overlongs, no surrogates
// D800-DFFF, nothing above U+10FFFF), run a byte at a time: e.g. `F4 90` and
// `ED A0` fail on their second byte. Its state is one byte, so input may be
// split anywhere.
//
// The kernels behind feed() skip ASCII 16 to 64 bytes at a time and check
// multibyte text in 16- or 32-byte blocks with SIMD (Keiser & Lemire's range
// check) or, without SSSE3, run the DFA in its "shift" encoding. At the first
// block with an error the DFA takes over from the last code point boundary and
// stops on the exact failing byte. utf8_reference.h keeps the simple version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace parley::ws {

namespace detail {

// The DFA state a kernel carries from one call to the next.
inline constexpr uint8_t kUtf8Accept = 0;  // on a code point boundary
inline constexpr uint8_t kUtf8Reject = 6;  // invalid; absorbing

// Runs the DFA from `state` over `bytes`. Returns bytes.size(), or the index of
// the first byte at which the input stopped being a prefix of valid UTF-8
// (state is then kUtf8Reject). Does nothing when state is kUtf8Reject.
using Utf8Kernel = std::size_t (*)(uint8_t& state, std::string_view bytes);

struct Utf8Impl {
  const char* name;  // "scalar", "sse2", "ssse3", "avx2"
  Utf8Kernel fn;
};

// The kernels this CPU can run, narrowest first; Utf8Validator uses the last.
std::span<const Utf8Impl> utf8_impls();

}  // namespace detail

class Utf8Validator {
 public:
  // Validates the next bytes of the stream. Returns false as soon as the bytes
  // seen so far are not a prefix of valid UTF-8; once failed, stays failed.
  bool feed(std::string_view bytes);

  // True when everything fed so far is valid and ends on a code point boundary.
  bool complete() const { return state_ == kAccept; }
  bool failed() const { return state_ == kReject; }

  void reset() { state_ = kAccept; }

 private:
  static constexpr uint8_t kAccept = detail::kUtf8Accept;
  static constexpr uint8_t kReject = detail::kUtf8Reject;
  uint8_t state_ = kAccept;
};

bool is_valid_utf8(std::string_view bytes);

// Longest prefix of `text` of at most `max_bytes` that does not cut a
// multi-byte sequence in half (used to fit Close reasons into 123 bytes).
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace parley::ws
