// libFuzzer target for permessage-deflate (RFC 7692), three ways, chosen by
// the top two bits of byte 0:
//   0, 1  an Endpoint (server) with deflate negotiated, fed the rest as
//         client frames in pieces; bit 0 says whether the client takes over
//         its context, bit 1 whether on_message calls close(), bit 6 (mode 1)
//         whether messages over 300 bytes are refused (Limits::refuse_above)
//         and inflating is capped by a small allowance. The promises
//         of ws_checking_handler.h hold, in particular no message (inflated)
//         over the limit, whatever the compressed bytes;
//   2     differential: the rest is a compressed payload, inflated by our
//         Inflater in pieces under a limit and by zlib in one go: same bytes
//         when ours accepts, and ours accepts whatever zlib inflates within
//         the limit; the output never passes the limit;
//   3     negotiation: the rest is a Sec-WebSocket-Extensions value; an
//         agreement has parameters in range and an answer that parses back
//         into one permessage-deflate extension.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/deflate.h"
#include "ws/deflate_negotiation.h"
#include "ws/endpoint.h"
#include "ws_checking_handler.h"

namespace {

using parley::ws::DeflateParams;
using parley::ws::Endpoint;
using parley::ws::Inflater;
using parley::ws::Role;
using parley::ws::fuzz::CheckingHandler;
using parley::ws::fuzz::violated;

constexpr std::size_t kMaxMessageSize = 1000;

void fuzz_endpoint(uint8_t control, std::string_view stream) {
  const bool client_takeover = (control & 1) != 0;
  const bool close_on_message = (control & 2) != 0;
  CheckingHandler handler(Role::Server, close_on_message, kMaxMessageSize);
  const bool limited = (control & 0x40) != 0;
  Endpoint endpoint(Role::Server,
                    Endpoint::Limits{.max_message_size = kMaxMessageSize,
                                     .refuse_above = limited ? 300 : SIZE_MAX},
                    handler);
  handler.endpoint = &endpoint;
  if (limited) endpoint.set_inflate_allowance(100);
  endpoint.enable_deflate(
      DeflateParams{.server_no_context_takeover = true,
                    .client_no_context_takeover = !client_takeover,
                    .client_max_window_bits = static_cast<uint8_t>(9 + ((control >> 2) % 7))});
  parley::ws::fuzz::feed_in_pieces(endpoint, stream, control >> 2);
}

// zlib in one go, as the reference: the payload and the tail inflated with
// a 32 KiB window into limit + 1 bytes of output.
Inflater::Status reference_inflate(std::string_view payload, std::size_t limit, std::string& out) {
  std::string in(payload);
  in.append("\x00\x00\xff\xff", 4);
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) violated("zlib init");
  out.assign(limit + 1, '\0');
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_SYNC_FLUSH);
  const std::size_t consumed = in.size() - z.avail_in;
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  if (out.size() > limit) return Inflater::Status::TooBig;
  if (rc == Z_STREAM_END) {
    // Only (part of) the tail may follow the final block.
    return consumed < payload.size() ? Inflater::Status::Corrupt : Inflater::Status::Ok;
  }
  if (rc != Z_OK && rc != Z_BUF_ERROR) return Inflater::Status::Corrupt;
  if (z.avail_in != 0) violated("zlib stopped with input and output left");
  return Inflater::Status::Ok;
}

void fuzz_inflater(uint8_t control, std::string_view payload) {
  const std::size_t limit = 64 + (control & 0x3F) * 64;
  Inflater inflater(15);
  std::string ours;
  Inflater::Status status = Inflater::Status::Ok;
  const std::size_t piece = 1 + (control & 7) * 37;
  for (std::size_t pos = 0; pos < payload.size() && status == Inflater::Status::Ok; pos += piece) {
    status = inflater.inflate(payload.substr(pos, piece), ours, limit);
  }
  if (status == Inflater::Status::Ok) status = inflater.finish_message(ours, limit, false);
  if (ours.size() > limit + 1) violated("inflated past the limit");

  std::string ref;
  const Inflater::Status expected = reference_inflate(payload, limit, ref);
  if (status != expected) violated("a different verdict from zlib's");
  if (status == Inflater::Status::Ok && ours != ref) violated("different bytes from zlib's");
}

void fuzz_negotiation(std::string_view header) {
  for (int policy = 0; policy < 4; ++policy) {
    parley::ws::DeflateOptions options;
    options.server_no_context_takeover = (policy & 1) != 0;
    options.client_no_context_takeover = (policy & 2) != 0;
    options.server_max_window_bits = static_cast<uint8_t>(9 + policy);
    options.client_max_window_bits = static_cast<uint8_t>(8 + policy * 2);
    const auto agreement = parley::ws::negotiate_deflate(header, options);
    if (!agreement) continue;
    const DeflateParams& p = agreement->params;
    if (p.server_max_window_bits < 8 || p.server_max_window_bits > options.server_max_window_bits) {
      violated("server_max_window_bits out of range");
    }
    if (p.client_max_window_bits < 8 || p.client_max_window_bits > 15) {
      violated("client_max_window_bits out of range");
    }
    if (options.server_no_context_takeover && !p.server_no_context_takeover) {
      violated("policy's server_no_context_takeover dropped");
    }
    const auto answer = parley::ws::parse_extension_offers(agreement->response);
    if (!answer || answer->size() != 1 || (*answer)[0].name != parley::ws::kPermessageDeflate) {
      violated("answer does not parse back");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (control >> 6) {
    case 0:
    case 1:
      fuzz_endpoint(control, rest);
      break;
    case 2:
      fuzz_inflater(control, rest);
      break;
    default:
      fuzz_negotiation(rest);
      break;
  }
  return 0;
}
