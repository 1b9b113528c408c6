#include "ws/mask.h"

#include <cstring>

#include <openssl/rand.h>

namespace parley::ws {

void apply_mask(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  // Eight mask bytes rotated to the phase: since 8 is a multiple of 4 the same
  // word applies to every 8-byte block. memcpy keeps it alignment- and
  // endianness-agnostic and compiles to plain loads/stores.
  unsigned char rotated[8];
  for (std::size_t k = 0; k < 8; ++k) rotated[k] = mask[(offset + k) & 3];
  uint64_t word_mask;
  std::memcpy(&word_mask, rotated, sizeof word_mask);

  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    word ^= word_mask;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (std::size_t k = 0; i < len; ++i, ++k) data[i] = static_cast<char>(data[i] ^ rotated[k]);
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
