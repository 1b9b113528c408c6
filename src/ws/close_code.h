// Close status codes (RFC 6455 §7.4, IANA "WebSocket Close Code Number
// Registry") and the rule for which ones a peer may legitimately send us.
#pragma once

#include <cstdint>

namespace parley::ws {

namespace close_code {
inline constexpr uint16_t Normal = 1000;
inline constexpr uint16_t GoingAway = 1001;
inline constexpr uint16_t ProtocolError = 1002;
inline constexpr uint16_t UnsupportedData = 1003;
// 1005 and 1006 are never sent on the wire: they only *report* "the close
// frame had no status code" and "the connection dropped without a close frame".
inline constexpr uint16_t NoStatus = 1005;
inline constexpr uint16_t Abnormal = 1006;
inline constexpr uint16_t InvalidPayload = 1007;
inline constexpr uint16_t PolicyViolation = 1008;
inline constexpr uint16_t MessageTooBig = 1009;
inline constexpr uint16_t MandatoryExtension = 1010;
inline constexpr uint16_t InternalError = 1011;
inline constexpr uint16_t ServiceRestart = 1012;
inline constexpr uint16_t TryAgainLater = 1013;
inline constexpr uint16_t BadGateway = 1014;
}  // namespace close_code

// True when `code` may appear in a Close frame: 1000-1003, 1007-1014 (defined
// by the RFC or registered with IANA) and 3000-4999 (libraries/applications).
// Everything else (below 1000, the reserved 1004, the report-only 1005/1006/1015,
// unassigned 1016-2999, and 5000 and above) is a protocol error when received,
// and is also never sent by us.
bool is_valid_received_close_code(uint16_t code);

}  // namespace parley::ws
