// permessage-deflate negotiation (RFC 7692 §5, §7.1), pure: the client's
// Sec-WebSocket-Extensions in, the agreed parameters and our answer out.
//
// The header (RFC 6455 §9.1) lists offers in the client's order of
// preference, possibly spread over several header lines (joined with ", "),
// each an extension name with ";"-separated parameters whose values are
// tokens or quoted strings. We accept the FIRST permessage-deflate offer we
// can, and decline (that offer only, never the connection) any offer with:
//   - a parameter RFC 7692 does not define for offers,
//   - the same parameter twice,
//   - a bad value: a value on server_no_context_takeover /
//     client_no_context_takeover, server_max_window_bits without a value, or
//     a window size that is not 8..15 written without leading zeroes.
// A header that is not even syntactically a list of extensions declines every
// offer in it: where a quoted string ends cannot be trusted any more.
//
// What we answer, given the server's policy (DeflateOptions):
//   server_no_context_takeover  when offered, or always when the policy says
//                               so (§7.1.1.1 lets a server add it): then every
//                               compressed message stands alone, so a broadcast
//                               is compressed once for all recipients and no
//                               compressor is kept per connection;
//   client_no_context_takeover  when offered (no reason to keep a window the
//                               client won't use), or always when the policy
//                               says so (§7.1.1.2): the inflater is then needed
//                               only while a message arrives, and an idle
//                               connection holds none;
//   server_max_window_bits=N    when offered (required to accept, §7.1.2.1),
//                               N = min(offered, policy); otherwise only when
//                               the policy is below 15;
//   client_max_window_bits=N    only when offered (§7.1.2.2 forbids it
//                               otherwise), N = min(offered or 15, policy),
//                               and only when N is below what the client would
//                               use anyway.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace parley::ws {

inline constexpr std::string_view kPermessageDeflate = "permessage-deflate";
inline constexpr uint8_t kMinWindowBits = 8;
inline constexpr uint8_t kMaxWindowBits = 15;

// The server's policy.
struct DeflateOptions {
  bool enabled = true;
  bool server_no_context_takeover = true;           // add it to every answer
  bool client_no_context_takeover = true;           // add it to every answer
  uint8_t server_max_window_bits = kMaxWindowBits;  // largest window we compress with
  uint8_t client_max_window_bits = kMaxWindowBits;  // window we ask of a client that allows it
};

// The window asked of clients that allow it (those whose offer has
// client_max_window_bits, as browsers' do): 4 KiB covers a whole chat
// message (--max-text-bytes is 4000) and bounds the inflater a client's
// messages need to ~11 KiB instead of ~39 KiB.
inline constexpr uint8_t kClientWindowBits = 12;

// The server's policies. "Shared" (the default, --deflate on): every
// message compressed on its own both ways, so broadcasts are compressed once
// and no connection keeps a compressor or an inflater between messages.
// "Context takeover" (--deflate takeover): both sides keep their context
// unless the client asks otherwise (smaller frames for chatty streams; the
// inflater then stays with the connection).
inline DeflateOptions shared_deflate_policy() {
  return {.client_max_window_bits = kClientWindowBits};
}
inline DeflateOptions context_takeover_policy() {
  return {.server_no_context_takeover = false,
          .client_no_context_takeover = false,
          .client_max_window_bits = kClientWindowBits};
}

// What one connection agreed on. "server" is the side that answers the
// handshake, whichever side we are.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = kMaxWindowBits;
  uint8_t client_max_window_bits = kMaxWindowBits;

  bool operator==(const DeflateParams&) const = default;
};

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  // unquoted; nullopt when the parameter has none
};

struct ExtensionOffer {
  std::string name;
  std::vector<ExtensionParam> params;
};

// The offers in a Sec-WebSocket-Extensions value, in order (empty list
// elements are skipped, RFC 9110 §5.6.1). Errc::Invalid on a syntax error.
Result<std::vector<ExtensionOffer>> parse_extension_offers(std::string_view header);

struct DeflateAgreement {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions value to answer with
};

// What the server agrees to for this one offer (whose name the caller
// checked is permessage-deflate), or Errc::Invalid saying why it is declined.
Result<DeflateAgreement> accept_deflate_offer(const ExtensionOffer& offer,
                                              const DeflateOptions& options);

// The first acceptable permessage-deflate offer in `header`, or nullopt
// (none offered, all declined, or options.enabled is false).
std::optional<DeflateAgreement> negotiate_deflate(std::string_view header,
                                                  const DeflateOptions& options);

}  // namespace parley::ws
