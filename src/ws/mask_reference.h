// The byte-at-a-time masking loop: the specification, against which the
// kernels behind apply_mask are tested, fuzzed and benchmarked.
#pragma once

#include <cstddef>

#include "ws/mask.h"

namespace parley::ws::detail {

void mask_reference(char* data, std::size_t len, MaskKey mask, std::size_t offset);

}  // namespace parley::ws::detail
