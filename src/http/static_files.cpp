#include "http/static_files.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "http/response.h"

namespace parley::http {
namespace {

// docs/SECURITY.md, "Security headers": our own scripts and styles only, a
// WebSocket to any host (the page may be told to use another), no framing
// by other sites (clickjacking), no <base> rewriting every relative URL.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'";

// FNV-1a: the ETag only has to change when the bytes do, not resist an attacker.
std::string make_etag(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag(18, '"');
  for (int i = 16; i >= 1; --i, hash >>= 4) etag[i] = kHex[hash & 0xf];
  return etag;
}

// Whether an If-None-Match value names `etag`, by weak comparison as RFC 9110
// §13.1.2 asks (W/"x" matches "x"). A malformed list matches nothing, so the
// client gets the full file rather than a wrong 304.
bool if_none_match_matches(std::string_view list, std::string_view etag) {
  std::size_t i = 0;
  auto skip_separators = [&] {
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t' || list[i] == ',')) ++i;
  };
  skip_separators();
  if (list.substr(i) == "*") return true;
  bool matched = false;
  while (i < list.size()) {
    if (list.substr(i, 2) == "W/") i += 2;
    if (i >= list.size() || list[i] != '"') return false;
    const std::size_t close = list.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    matched = matched || list.substr(i, close + 1 - i) == etag;
    i = close + 1;
    // An entity-tag ends at a separator or the end of the list.
    if (i < list.size() && list[i] != ',' && list[i] != ' ' && list[i] != '\t') return false;
    skip_separators();
  }
  return matched;
}

}  // namespace

std::optional<std::string> resolve_static_path(std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') return std::nullopt;
  std::string path;
  path.reserve(request_path.size() + 10);
  for (std::size_t i = 0; i < request_path.size(); ++i) {
    char c = request_path[i];
    if (c == '%') {
      if (i + 2 >= request_path.size()) return std::nullopt;
      const int high = hex_digit_value(request_path[i + 1]);
      const int low = hex_digit_value(request_path[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      // An encoded separator would split differently before and after decoding.
      if (c == '/') return std::nullopt;
      i += 2;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || byte < 0x20 || byte == 0x7f) return std::nullopt;
    path.push_back(c);
  }

  // Check every segment after decoding, so "%2e%2e" and ".%2e" are ".." too.
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const std::string_view segment =
        std::string_view(path).substr(start, slash == std::string::npos ? slash : slash - start);
    if (segment == "." || segment == "..") return std::nullopt;
    if (slash == std::string::npos) break;
    if (segment.empty()) return std::nullopt;
    start = slash + 1;
  }
  if (path.back() == '/') path.append("index.html");
  return path;
}

std::string_view content_type_for(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return "application/octet-stream";
  }
  const std::string_view ext = path.substr(dot + 1);
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"woff2", "font/woff2"},
      {"wasm", "application/wasm"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (iequals(ext, extension)) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::span<const EmbeddedFile> files) {
  files_.reserve(files.size());
  for (const EmbeddedFile& file : files) {
    const std::string_view path(file.path);
    const std::string_view body(reinterpret_cast<const char*>(file.data), file.size);
    files_.try_emplace(path, Entry{content_type_for(path), make_etag(body), body,
                                   make_shared_bytes(std::string(body))});
  }
}

std::optional<StaticFile> StaticFiles::find(std::string_view request_path) const {
  const std::optional<std::string> path = resolve_static_path(request_path);
  if (!path) return std::nullopt;
  const auto it = files_.find(*path);
  if (it == files_.end()) return std::nullopt;
  return StaticFile{it->first, it->second.content_type, it->second.etag, it->second.body};
}

std::string StaticFiles::respond(const Request& request) const {
  Parts parts = respond_parts(request);
  if (parts.body) parts.head.append(*parts.body);
  return std::move(parts.head);
}

StaticFiles::Parts StaticFiles::respond_parts(const Request& request) const {
  const bool head = request.method == "HEAD";
  const bool keep_alive = request.keep_alive();
  std::vector<Header> headers;
  if (!keep_alive) {
    headers.push_back({"Connection", "close"});
  } else if (request.version_minor == 0) {
    headers.push_back({"Connection", "keep-alive"});  // HTTP/1.0 closes unless told otherwise
  }

  auto error = [&](int status, std::string_view message, std::vector<Header> extra) {
    Response response = make_error_response(status, message, /*keep_alive=*/true);
    response.headers.insert(response.headers.end(), headers.begin(), headers.end());
    response.headers.insert(response.headers.end(), extra.begin(), extra.end());
    return Parts{serialize(response, head), nullptr};
  };

  if (request.method != "GET" && !head) {
    return error(405, "only GET and HEAD are served here", {{"Allow", "GET, HEAD"}});
  }
  const std::optional<std::string> path = resolve_static_path(request.path());
  if (!path) return error(400, "malformed or unsafe path", {});
  const auto it = files_.find(*path);
  if (it == files_.end()) return error(404, "no such file", {});
  const Entry& file = it->second;

  headers.push_back({"ETag", file.etag});
  headers.push_back({"Cache-Control", "no-cache"});
  std::string out;
  if (const auto if_none_match = request.header_list("If-None-Match");
      if_none_match && if_none_match_matches(*if_none_match, file.etag)) {
    append_head(out, 304, headers, 0);
    return Parts{std::move(out), nullptr};
  }
  headers.push_back({"Content-Type", std::string(file.content_type)});
  headers.push_back({"X-Content-Type-Options", "nosniff"});
  headers.push_back({"Content-Security-Policy", std::string(kContentSecurityPolicy)});
  // A link followed from a message must not tell the other site which chat
  // server it was found on.
  headers.push_back({"Referrer-Policy", "no-referrer"});
  append_head(out, 200, headers, file.body.size());
  return Parts{std::move(out), head ? nullptr : file.shared_body};
}

}  // namespace parley::http
