// Thin helpers over BSD sockets. Errors come back as values (parley::Error),
// never as exceptions, so the caller decides whether a failure is fatal
// (start-up) or per-connection (data path).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "net/ip_address.h"

namespace parley::net {

// A listening, non-blocking TCP socket bound to host:port (port 0 picks a
// free one); the caller owns the descriptor. Errc::Invalid when the host does
// not resolve, Errc::Io (with errno) when no address could be bound.
Result<int> listen_tcp(const std::string& host, uint16_t port, int backlog = 4096);

// The port a bound socket ended up on.
uint16_t local_port(int fd);

// The address of a connected socket's peer.
Result<IpAddress> peer_address(int fd);

// Low latency for chat: small frames must not wait for Nagle.
void set_tcp_nodelay(int fd);

}  // namespace parley::net
