#include "ws/mask_reference.h"

namespace parley::ws::detail {

void mask_reference(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  for (std::size_t i = 0; i < len; ++i)
    data[i] = static_cast<char>(data[i] ^ mask[(offset + i) % 4]);
}

}  // namespace parley::ws::detail
