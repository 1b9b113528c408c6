// Incremental UTF-8 validation for Text messages and Close reasons.
//
// RFC 6455 §8.1 makes a connection fail on invalid UTF-8, and Autobahn (6.4.x)
// checks that it fails *as soon as* the bytes seen can no longer start a valid
// sequence, not at the end of the message. So this is a byte-at-a-time DFA over
// the well-formed sequences of Unicode Table 3-7 (no overlongs, no surrogates
// D800-DFFF, nothing above U+10FFFF): e.g. `F4 90` and `ED A0` fail on their
// second byte. Its state is one byte, so input may be split anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::ws {

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
  static constexpr uint8_t kAccept = 0;
  static constexpr uint8_t kReject = 1;
  uint8_t state_ = kAccept;
};

bool is_valid_utf8(std::string_view bytes);

// Longest prefix of `text` of at most `max_bytes` that does not cut a
// multi-byte sequence in half (used to fit Close reasons into 123 bytes).
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace parley::ws
