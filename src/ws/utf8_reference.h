// The simple UTF-8 validator the kernels behind Utf8Validator are tested,
// fuzzed and benchmarked against: the Table 3-7 DFA a byte at a time (two table
// lookups per byte), skipping ASCII 8 bytes at a time between code points.
// It is the validator Parley shipped before the SIMD kernels ("before" in
// docs/BENCHMARKS.md), kept with its own tables and state numbering.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::ws::detail {

class Utf8Reference {
 public:
  // Consumes `bytes` up to the first byte at which the input stops being a
  // prefix of valid UTF-8. Returns how many bytes were consumed before failing:
  // bytes.size() if none failed, 0 if the validator had already failed.
  std::size_t feed(std::string_view bytes);

  bool complete() const { return state_ == 0; }
  bool failed() const { return state_ == 1; }
  void reset() { state_ = 0; }

 private:
  uint8_t state_ = 0;
};

bool is_valid_utf8_reference(std::string_view bytes);

}  // namespace parley::ws::detail
