// Percent-decoding (RFC 3986 §2.1) and query strings, for request targets.
// Pure functions; the decoded bytes are not checked for UTF-8 here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::http {

// `%XX` (either case) becomes the byte XX; with `plus_is_space` (query
// strings, application/x-www-form-urlencoded) `+` becomes a space, else it
// stays a plus. nullopt for a `%` not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// The query of a request target: what follows the first `?`, up to a `#`;
// "" when there is none.
std::string_view query_of(std::string_view target);

// The parameters of a query ("a=1&b=x%20y"), names and values decoded, in
// order (a name may repeat). Empty pieces ("a=1&&b") are skipped; a piece
// without `=` has an empty value. nullopt when an escape is malformed.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
std::optional<QueryParams> parse_query(std::string_view query);

}  // namespace parley::http
