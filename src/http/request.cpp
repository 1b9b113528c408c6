#include "http/request.h"

#include <cstddef>

#include "base/strings.h"

namespace parley::http {
namespace {

// Length of "scheme://authority" when `target` is in absolute-form, else 0.
// The parser only lets absolute-form through with an http or https scheme.
std::size_t absolute_form_prefix(std::string_view target) {
  const std::size_t scheme_end = target.find("://");
  if (target.empty() || target.front() == '/' || scheme_end == std::string_view::npos) return 0;
  const std::size_t authority_end = target.find_first_of("/?", scheme_end + 3);
  return authority_end == std::string_view::npos ? target.size() : authority_end;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool list_has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::optional<std::string> Request::header_list(std::string_view name) const {
  std::optional<std::string> joined;
  for (const Header& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (joined) {
      joined->append(", ").append(h.value);
    } else {
      joined.emplace(h.value);
    }
  }
  return joined;
}

std::string_view Request::path() const {
  std::string_view rest(target);
  if (const std::size_t prefix = absolute_form_prefix(rest); prefix != 0) {
    rest.remove_prefix(prefix);
    // "http://host" and "http://host?q" name the root (RFC 9112 §3.2.2 / RFC 3986 §6.2.3).
    if (rest.empty() || rest.front() == '?') return "/";
  }
  return rest.substr(0, rest.find('?'));
}

bool Request::keep_alive() const {
  const std::optional<std::string> connection = header_list("Connection");
  if (connection && list_has_token(*connection, "close")) return false;
  if (version_minor >= 1) return true;
  return connection && list_has_token(*connection, "keep-alive");
}

}  // namespace parley::http
