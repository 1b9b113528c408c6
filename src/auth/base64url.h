// base64url without padding (RFC 4648 §5, as JWS uses it: RFC 7515 §2).
//
// Written here rather than taken from OpenSSL: EVP_DecodeBlock knows only the
// standard alphabet, wants padding, skips whitespace and reports padding bytes
// as data. A JWS segment must be decoded strictly: an alphabet of 64
// characters, no padding, no whitespace, and no non-zero bits left over in the
// last character, so that each byte string has exactly one encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::auth {

std::string base64url_encode(std::string_view bytes);

// The bytes `text` encodes, or nullopt when it is not canonical unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace parley::auth
