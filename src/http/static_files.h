// Static files embedded in the binary (the web client), served by path.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/shared_text.h"
#include "http/request.h"

namespace parley::http {

// One embedded file. `path` starts with '/', e.g. "/index.html".
struct EmbeddedFile {
  const char* path;
  const unsigned char* data;
  std::size_t size;
};

// A file found by StaticFiles::find; views into the embedded data and the table.
struct StaticFile {
  std::string_view path;          // the embedded path, e.g. "/index.html"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view etag;          // strong, with its quotes: "\"9f2c...\""
  std::string_view body;
};

// Turns a request path (Request::path(), still percent-encoded) into the
// embedded path it names: percent-decoded, "/" and "/dir/" completed with
// "index.html". nullopt when the path could name something outside the table
// or is ambiguous: not starting with '/', a "." or ".." segment (raw or
// encoded), an empty segment ("//"), a backslash, an encoded '/', a control
// byte (NUL included), or a '%' not followed by two hex digits.
std::optional<std::string> resolve_static_path(std::string_view request_path);

// Content-Type for a path, by extension (case-insensitive); application/octet-stream
// when unknown.
std::string_view content_type_for(std::string_view path);

class StaticFiles {
 public:
  // Indexes `files` and hashes each once for its ETag. The file data and paths
  // are referenced, not copied: they must outlive this object (embedded data
  // is static). When two files share a path, the first wins.
  explicit StaticFiles(std::span<const EmbeddedFile> files);

  // The file a request path names, or nullopt (not found or rejected by
  // resolve_static_path).
  std::optional<StaticFile> find(std::string_view request_path) const;

  // The complete response to `request`:
  // - 405 with "Allow: GET, HEAD" for other methods;
  // - 400 when resolve_static_path rejects the path, 404 when nothing is there;
  // - 304 when If-None-Match names the file's ETag (or is "*");
  // - 200 with the file, no-cache (revalidate with the ETag each time),
  //   nosniff and a Content-Security-Policy for the web client.
  // HEAD gets the headers GET would get, without the body. When
  // !request.keep_alive() the response says Connection: close, and the
  // caller must close the connection after sending it.
  std::string respond(const Request& request) const;

  // The same response in two parts, so that a server can queue the file by
  // reference instead of copying it into every response: `head` is all of the
  // response but the file's bytes, `body` those bytes (built once, shared),
  // or null when the response has no file body (errors, 304, HEAD).
  struct Parts {
    std::string head;
    SharedBytes body;
  };
  Parts respond_parts(const Request& request) const;

 private:
  struct Entry {
    std::string_view content_type;
    std::string etag;
    std::string_view body;
    SharedBytes shared_body;
  };

  std::unordered_map<std::string_view, Entry> files_;
};

}  // namespace parley::http
