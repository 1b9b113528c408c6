#include "app/upgrade_auth.h"

#include "auth/jwt_verifier.h"
#include "http/response.h"

namespace parley::app {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] != '%') {
      out.push_back(in[i]);
    } else {
      int hi = i + 2 < in.size() ? hex_digit(in[i + 1]) : -1;
      int lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
      if (lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

std::string unauthorized(std::string_view reason) {
  http::Response r = http::make_error_response(401, "token " + std::string(reason));
  std::string challenge = "Bearer realm=\"parley\"";
  // RFC 6750 §3.1: no error code when the request carried no token at all.
  if (reason != "missing") {
    challenge += ", error=\"invalid_token\", error_description=\"" + std::string(reason) + "\"";
  }
  r.headers.push_back({"WWW-Authenticate", challenge});
  return http::serialize(r);
}

}  // namespace

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
  return std::nullopt;
}

UpgradeAuth check_upgrade_token(const auth::JwtVerifier* jwt, std::string_view target,
                                bool plain_text, std::string_view room,
                                auth::Clock::time_point now) {
  UpgradeAuth out;
  if (jwt == nullptr) return out;
  std::optional<std::string> token = query_parameter(target, "token");
  if (!token || token->empty()) {
    if (plain_text) out.refusal = unauthorized("missing");
    return out;
  }
  Result<auth::Claims> claims = jwt->verify(*token, now);
  if (!claims) {
    std::optional<auth::Rejection> why = auth::rejection_of(claims.error());
    out.refusal = unauthorized(why ? auth::rejection_name(*why) : "malformed");
    return out;
  }
  if (plain_text && !auth::allows_room(*claims, room)) {
    out.refusal = http::error_response(403, "the token does not allow this room");
    return out;
  }
  out.claims = *std::move(claims);
  return out;
}

}  // namespace parley::app
