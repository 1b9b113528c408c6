#include "http/origin_policy.h"

#include <charconv>

#include "base/strings.h"

namespace parley::http {
namespace {

Error invalid(std::string_view what, std::string_view text) {
  return Error(Errc::Invalid, std::string(what) + " '" + std::string(text) + "'");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool is_scheme_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// A host name or IPv4 literal: letters, digits, '-', '.', '_' (RFC 3986's
// reg-name minus the percent-encodings and sub-delims no browser sends).
bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

uint16_t default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return 0;
}

// "host", "host:port", "[v6]" or "[v6]:port" into its parts.
Result<HostPort> split_authority(std::string_view text) {
  HostPort out;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("unbalanced '[' in", text);
    host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("junk after ']' in", text);
      port = rest.substr(1);
      if (port.empty()) return invalid("empty port in", text);
    }
    for (char c : host.substr(1, host.size() - 2)) {
      if (!(is_host_char(c) || c == ':')) return invalid("bad character in", text);
    }
  } else {
    std::size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return invalid("empty port in", text);
    }
    for (char c : host) {
      if (!is_host_char(c)) return invalid("bad character in", text);
    }
  }
  if (host.empty()) return invalid("no host in", text);
  out.host = lower(host);
  if (!port.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n > 65535) {
      return invalid("bad port in", text);
    }
    out.port = static_cast<uint16_t>(n);
  }
  return out;
}

}  // namespace

std::string OriginParts::to_string() const {
  return scheme + "://" + host + ":" + std::to_string(port);
}

Result<OriginParts> parse_origin(std::string_view origin) {
  std::size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return invalid("not an origin", origin);
  std::string_view scheme = origin.substr(0, sep);
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (!is_scheme_char(scheme[i], i == 0)) return invalid("not an origin", origin);
  }
  Result<HostPort> authority = split_authority(origin.substr(sep + 3));
  if (!authority) return invalid("not an origin", origin);
  OriginParts parts;
  parts.scheme = lower(scheme);
  parts.host = std::move(authority->host);
  parts.port = authority->port.value_or(default_port(parts.scheme));
  return parts;
}

Result<HostPort> parse_host_header(std::string_view host) {
  return split_authority(trim_ows(host));
}

Result<OriginPolicy> OriginPolicy::parse(std::string_view list) {
  OriginPolicy policy;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view entry = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      policy.any_ = true;
    } else if (entry == "null") {
      policy.null_ = true;
    } else {
      Result<OriginParts> parts = parse_origin(entry);
      if (!parts) {
        return Error(Errc::Invalid, "'" + std::string(entry) +
                                        "' is not *, null or an origin such as "
                                        "https://chat.example.com:8443");
      }
      policy.origins_.push_back(parts->to_string());
    }
  }
  return policy;
}

bool OriginPolicy::listed(const OriginParts& parts) const {
  std::string normalised = parts.to_string();
  for (const std::string& o : origins_) {
    if (o == normalised) return true;
  }
  return false;
}

bool OriginPolicy::allows(std::optional<std::string_view> origin,
                          std::optional<std::string_view> host) const {
  if (!origin || any_) return true;
  std::string_view value = trim_ows(*origin);
  if (value == "null") return null_;
  Result<OriginParts> parts = parse_origin(value);
  if (!parts) return false;
  if (host) {
    Result<HostPort> ours = parse_host_header(*host);
    if (ours && ours->host == parts->host && (!ours->port || *ours->port == parts->port)) {
      return true;
    }
  }
  return listed(*parts);
}

}  // namespace parley::http
