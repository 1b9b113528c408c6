#include "ws/deflate_negotiation.h"

#include <algorithm>

#include "base/strings.h"
#include "http/request.h"

namespace parley::ws {
namespace {

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// A cursor over the header value; each parse step returns false on a syntax error.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ == s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ows() {
    while (!at_end() && is_ows(peek())) ++pos_;
  }
  bool take(char c) {
    if (at_end() || peek() != c) return false;
    ++pos_;
    return true;
  }
  bool token(std::string& out) {
    const std::size_t start = pos_;
    while (!at_end() && is_tchar(peek())) ++pos_;
    out.assign(s_.substr(start, pos_ - start));
    return pos_ > start;
  }
  // RFC 9110 §5.6.4; RFC 6455 §9.1 requires the unescaped value to be a token.
  bool quoted_string(std::string& out) {
    if (!take('"')) return false;
    out.clear();
    while (!at_end()) {
      char c = s_[pos_++];
      if (c == '"') return is_token(out);
      if (c == '\\') {
        if (at_end()) return false;
        c = s_[pos_++];
      }
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) return false;
      out.push_back(c);
    }
    return false;  // unterminated
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

bool parse_param(Lexer& in, ExtensionParam& param) {
  in.skip_ows();
  if (!in.token(param.name)) return false;
  in.skip_ows();
  if (!in.take('=')) return true;
  in.skip_ows();
  std::string value;
  if (in.at_end()) return false;
  if (in.peek() == '"' ? !in.quoted_string(value) : !in.token(value)) return false;
  param.value = std::move(value);
  return true;
}

// One extension and its parameters, up to the next top-level comma.
bool parse_offer(Lexer& in, ExtensionOffer& offer) {
  if (!in.token(offer.name)) return false;
  for (;;) {
    in.skip_ows();
    if (in.at_end() || in.take(',')) return true;
    if (!in.take(';')) return false;
    if (!parse_param(in, offer.params.emplace_back())) return false;
  }
}

// §7.1.2.1: 1*DIGIT without leading zeroes, 8 to 15.
std::optional<uint8_t> parse_window_bits(std::string_view v) {
  if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) return static_cast<uint8_t>(v[0] - '0');
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
    return static_cast<uint8_t>(10 + (v[1] - '0'));
  }
  return std::nullopt;
}

// The parameters of one offer, checked for duplicates and values.
struct Offered {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<uint8_t> server_max_window_bits;
  bool client_max_window_bits = false;       // the parameter is present...
  std::optional<uint8_t> client_bits_value;  // ...with this value
};

Error decline(std::string why) {
  return Error{Errc::Invalid, std::move(why)};
}

Result<Offered> read_offer(const ExtensionOffer& offer) {
  Offered o;
  bool seen[4] = {};
  static constexpr std::string_view kNames[4] = {
      "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits",
      "client_max_window_bits"};
  for (const ExtensionParam& p : offer.params) {
    const auto* known = std::find_if(std::begin(kNames), std::end(kNames),
                                     [&](std::string_view n) { return http::iequals(n, p.name); });
    if (known == std::end(kNames)) return decline("unknown parameter " + p.name);
    const auto i = static_cast<std::size_t>(known - std::begin(kNames));
    if (seen[i]) return decline("parameter " + p.name + " given twice");
    seen[i] = true;
    if (i < 2) {
      if (p.value) return decline(p.name + " takes no value");
      (i == 0 ? o.server_no_context_takeover : o.client_no_context_takeover) = true;
      continue;
    }
    std::optional<uint8_t> bits;
    if (p.value) {
      bits = parse_window_bits(*p.value);
      if (!bits) return decline(p.name + " must be 8 to 15");
    }
    if (i == 2) {
      if (!bits) return decline("server_max_window_bits needs a value");
      o.server_max_window_bits = bits;
    } else {
      o.client_max_window_bits = true;
      o.client_bits_value = bits;
    }
  }
  return o;
}

void append_param(std::string& out, std::string_view name, std::optional<uint8_t> value = {}) {
  out += "; ";
  out += name;
  if (value) {
    out += '=';
    out += std::to_string(*value);
  }
}

}  // namespace

Result<std::vector<ExtensionOffer>> parse_extension_offers(std::string_view header) {
  std::vector<ExtensionOffer> offers;
  Lexer in(header);
  for (;;) {
    in.skip_ows();
    if (in.at_end()) return offers;
    if (in.take(',')) continue;  // empty list element
    if (!parse_offer(in, offers.emplace_back())) {
      return Error{Errc::Invalid, "malformed Sec-WebSocket-Extensions"};
    }
  }
}

Result<DeflateAgreement> accept_deflate_offer(const ExtensionOffer& offer,
                                              const DeflateOptions& options) {
  Result<Offered> read = read_offer(offer);
  if (!read) return std::move(read).error();
  const Offered& o = *read;
  DeflateAgreement a;
  DeflateParams& p = a.params;
  p.server_no_context_takeover = o.server_no_context_takeover || options.server_no_context_takeover;
  p.client_no_context_takeover = o.client_no_context_takeover || options.client_no_context_takeover;
  p.server_max_window_bits =
      std::min(o.server_max_window_bits.value_or(kMaxWindowBits), options.server_max_window_bits);
  // Without the parameter in the offer the client may not be told a size.
  const uint8_t client_would_use = o.client_bits_value.value_or(kMaxWindowBits);
  p.client_max_window_bits = o.client_max_window_bits
                                 ? std::min(client_would_use, options.client_max_window_bits)
                                 : kMaxWindowBits;

  a.response = kPermessageDeflate;
  if (p.server_no_context_takeover) append_param(a.response, "server_no_context_takeover");
  if (p.client_no_context_takeover) append_param(a.response, "client_no_context_takeover");
  if (o.server_max_window_bits || p.server_max_window_bits < kMaxWindowBits) {
    append_param(a.response, "server_max_window_bits", p.server_max_window_bits);
  }
  if (o.client_max_window_bits && p.client_max_window_bits < client_would_use) {
    append_param(a.response, "client_max_window_bits", p.client_max_window_bits);
  }
  return a;
}

std::optional<DeflateAgreement> negotiate_deflate(std::string_view header,
                                                  const DeflateOptions& options) {
  if (!options.enabled) return std::nullopt;
  Result<std::vector<ExtensionOffer>> offers = parse_extension_offers(header);
  if (!offers) return std::nullopt;
  for (const ExtensionOffer& offer : *offers) {
    if (!http::iequals(offer.name, kPermessageDeflate)) continue;
    if (Result<DeflateAgreement> a = accept_deflate_offer(offer, options)) return std::move(*a);
  }
  return std::nullopt;
}

}  // namespace parley::ws
