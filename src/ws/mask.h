// Payload masking (RFC 6455 §5.3): byte i of a payload is XORed with
// mask[i % 4]. Masking and unmasking are the same operation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace parley::ws {

using MaskKey = std::array<uint8_t, 4>;

// XORs data[0..len) in place with `mask`, where data[0] is byte number
// `offset` of the payload. The offset (the "phase") lets a payload that
// arrives in pieces be unmasked piece by piece. Works for any alignment.
void apply_mask(char* data, std::size_t len, MaskKey mask, std::size_t offset = 0);

// A fresh key from OpenSSL's CSPRNG: §5.3 requires client masks to be
// unpredictable, so a cheap PRNG will not do.
MaskKey make_random_mask();

}  // namespace parley::ws
