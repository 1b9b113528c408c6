// Who is at the other end of a connection, and what it holds against the
// server's limits (docs/SECURITY.md, "Connection caps", "Trusted proxies"):
// set at accept (app/edge_policy.h, admit), its client address refined at
// the WebSocket upgrade when the peer is a trusted proxy.
#pragma once

#include <optional>

#include "app/address_table.h"
#include "net/ip_address.h"

namespace parley::app {

struct Peer {
  net::IpAddress address;       // the TCP peer
  net::IpAddress client;        // the peer, or whom a trusted proxy forwards for
  bool trusted_proxy = false;   // the peer is in --trusted-proxies
  bool metrics_only = false;    // accepted on --metrics-address: /metrics and /healthz only
  AddressTable::Ticket ticket;  // one of --max-connections (not held: not counted)
  std::optional<AddressTable::Slot> slot;  // the client's address: caps and rates
};

}  // namespace parley::app
