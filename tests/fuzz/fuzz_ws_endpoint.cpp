// libFuzzer target: arbitrary bytes into an Endpoint, cut into pieces whose
// sizes are derived from the input, checking the Endpoint's promises (see
// ws_checking_handler.h) and that no view outlives feed() (each piece is a
// fresh heap copy, so ASan sees it).
//
// Input layout: byte 0 picks the role (bit 0), whether on_message calls
// close() (bit 1) and seeds the piece sizes; the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ws/endpoint.h"
#include "ws_checking_handler.h"

namespace {

using parley::ws::Endpoint;
using parley::ws::Role;
using parley::ws::fuzz::CheckingHandler;

constexpr std::size_t kMaxMessageSize = 300;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const Role role = (control & 1) ? Role::Client : Role::Server;
  const bool close_on_message = (control & 2) != 0;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  CheckingHandler handler(role, close_on_message, kMaxMessageSize);
  Endpoint endpoint(role, Endpoint::Limits{.max_message_size = kMaxMessageSize}, handler);
  handler.endpoint = &endpoint;
  parley::ws::fuzz::feed_in_pieces(endpoint, stream, control >> 2);
  return 0;
}
