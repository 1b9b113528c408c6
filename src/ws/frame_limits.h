// Fixed sizes of the frame format (RFC 6455 §5.2, §5.5), shared by the parser,
// the writer and the Endpoint's stack buffers.
#pragma once

#include <cstddef>

namespace parley::ws {

inline constexpr std::size_t kMaxFrameHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask)
inline constexpr std::size_t kMaxControlPayload = 125;  // control frames, §5.5
inline constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;  // after the 2-byte code

}  // namespace parley::ws
