// Which side of a WebSocket connection we are. It decides the masking rule
// (RFC 6455 §5.1): a client masks every frame it sends and a server must
// reject unmasked frames; a server never masks and a client must reject
// masked frames.
#pragma once

namespace parley::ws {

enum class Role { Server, Client };

}  // namespace parley::ws
