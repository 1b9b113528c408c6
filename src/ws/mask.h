// Payload masking (RFC 6455 §5.3): byte i of a payload is XORed with
// mask[i % 4]. Masking and unmasking are the same operation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::ws {

using MaskKey = std::array<uint8_t, 4>;

// XORs data[0..len) in place with `mask`, where data[0] is byte number
// `offset` of the payload. The offset (the "phase") lets a payload that
// arrives in pieces be unmasked piece by piece. Works for any alignment.
// Picks the widest kernel the CPU runs (AVX2, SSE2, 8-byte words) once.
void apply_mask(char* data, std::size_t len, MaskKey mask, std::size_t offset = 0);

// A fresh key from OpenSSL's CSPRNG: §5.3 requires client masks to be
// unpredictable, so a cheap PRNG will not do.
MaskKey make_random_mask();

namespace detail {

using MaskFn = void (*)(char* data, std::size_t len, MaskKey mask, std::size_t offset);

struct MaskImpl {
  const char* name;  // "word", "sse2", "avx2"
  MaskFn fn;
};

// The kernels this CPU can run, narrowest first; apply_mask uses the last.
// Exposed so tests, benchmarks and the fuzzer can compare every one of them
// with mask_reference (mask_reference.h).
std::span<const MaskImpl> mask_impls();

}  // namespace detail
}  // namespace parley::ws
