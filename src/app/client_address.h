// Who a connection is, for the limits kept per address and for the logs
// (docs/SECURITY.md, "Trusted proxies"). Behind a reverse proxy every
// connection comes from the proxy; the proxy says whom it forwards for in
// X-Forwarded-For (a list, one hop appended by each proxy) or X-Real-IP. Any
// client can send those headers too, so they are believed only from a peer
// in --trusted-proxies, and in X-Forwarded-For only as far as the hops are
// trusted:
//
//   peer (trusted) <- rightmost entry (trusted?) <- next entry ... <- client
//
// Walking from the right, the first address that is not a trusted proxy is
// the client; entries to its left were written by the client itself and are
// ignored. When every hop is trusted, the leftmost is the client. A hop that
// is not an address stops the walk at the last trusted one. X-Real-IP is
// used only when there is no X-Forwarded-For.
#pragma once

#include <span>

#include "http/request.h"
#include "net/ip_address.h"

namespace parley::app {

bool is_trusted_proxy(const net::IpAddress& peer, std::span<const net::Cidr> trusted);

// The client's address for a request that arrived from `peer`.
net::IpAddress client_address(const net::IpAddress& peer, const http::Request& request,
                              std::span<const net::Cidr> trusted);

}  // namespace parley::app
