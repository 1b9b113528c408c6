// StaticFiles: path resolution and traversal, content types, ETag/304, HEAD, 404/405.
#include "http/static_files.h"

#include <gtest/gtest.h>

#include <map>

#include "http/request_parser.h"

namespace parley::http {
namespace {

const unsigned char kIndex[] = "<!doctype html><title>Parley</title>";
const unsigned char kApp[] = "console.log('hi');";
const unsigned char kDocsIndex[] = "docs";
const unsigned char kIcon[] = {0x00, 0x00, 0x01, 0x00, 0xff};
const unsigned char kSpaced[] = "spaced";
const unsigned char kShadow[] = "second copy";

const EmbeddedFile kFiles[] = {
    {"/index.html", kIndex, sizeof kIndex - 1},
    {"/app.js", kApp, sizeof kApp - 1},
    {"/docs/index.html", kDocsIndex, sizeof kDocsIndex - 1},
    {"/favicon.ico", kIcon, sizeof kIcon},
    {"/a b.txt", kSpaced, sizeof kSpaced - 1},
    {"/app.js", kShadow, sizeof kShadow - 1},
};

struct Parsed {
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string get(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "<absent>" : it->second;
  }
};

Parsed parse_response(const std::string& raw) {
  Parsed p;
  const std::size_t end = raw.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << raw;
  if (end == std::string::npos) return p;
  p.body = raw.substr(end + 4);
  std::size_t line_start = 0;
  bool first = true;
  while (line_start < end) {
    const std::size_t line_end = raw.find("\r\n", line_start);
    const std::string line = raw.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    if (first) {
      p.status_line = line;
      first = false;
      continue;
    }
    const std::size_t colon = line.find(": ");
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.headers.emplace(name, line.substr(colon + 2));
  }
  return p;
}

// Requests go through the real parser, so these tests see what a server would.
Request parse_request(const std::string& raw) {
  RequestParser parser;
  std::size_t consumed = 0;
  EXPECT_EQ(parser.feed(raw, consumed), RequestParser::Status::Done) << parser.error_reason();
  return parser.take_request();
}

Parsed get(const StaticFiles& files, const std::string& method, const std::string& target,
           const std::string& extra_fields = "") {
  return parse_response(files.respond(
      parse_request(method + " " + target + " HTTP/1.1\r\nHost: h\r\n" + extra_fields + "\r\n")));
}

TEST(HttpStaticFiles, ResolvesIndexAndPercentEncoding) {
  EXPECT_EQ(resolve_static_path("/"), "/index.html");
  EXPECT_EQ(resolve_static_path("/docs/"), "/docs/index.html");
  EXPECT_EQ(resolve_static_path("/docs"), "/docs");
  EXPECT_EQ(resolve_static_path("/a%20b.txt"), "/a b.txt");
  EXPECT_EQ(resolve_static_path("/%41pp.js"), "/App.js");
  EXPECT_EQ(resolve_static_path("/%e2%82%AC"), "/\xe2\x82\xac");
  EXPECT_EQ(resolve_static_path("/a+b"), "/a+b");
  EXPECT_EQ(resolve_static_path("/..a/b..c/.d"), "/..a/b..c/.d");
}

TEST(HttpStaticFiles, RejectsTraversalAndAmbiguousPaths) {
  for (const char* path : {
           "",
           "index.html",
           "/../etc/passwd",
           "/..",
           "/.",
           "/./index.html",
           "/docs/../index.html",
           "/docs/..",
           "/%2e%2e/",
           "/%2E%2E/etc/passwd",
           "/..%2f",
           "/..%2Fetc%2Fpasswd",
           "/.%2e/",
           "/%2e./",
           "/%2e",
           "//",
           "//etc/passwd",
           "/docs//index.html",
           "/a\\b",
           "/..\\..\\x",
           "/%5c..%5c",
           "/%00",
           "/index.html%00.js",
           "/a%0d%0ab",
           "/a%7f",
           "/a%",
           "/a%2",
           "/a%zz",
           "/a%2/",
           "/docs%2findex.html",
       }) {
    EXPECT_EQ(resolve_static_path(path), std::nullopt) << path;
  }
}

TEST(HttpStaticFiles, ContentTypesByExtension) {
  EXPECT_EQ(content_type_for("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("/logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("/icon.png"), "image/png");
  EXPECT_EQ(content_type_for("/favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("/data.json"), "application/json");
  EXPECT_EQ(content_type_for("/app.webmanifest"), "application/manifest+json");
  EXPECT_EQ(content_type_for("/robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("/INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/archive.tar.gz"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/Makefile"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/v1.2/README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/html"), "application/octet-stream");
}

TEST(HttpStaticFiles, FindReturnsTheFile) {
  const StaticFiles files(kFiles);
  const auto index = files.find("/");
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->path, "/index.html");
  EXPECT_EQ(index->body, "<!doctype html><title>Parley</title>");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");

  const auto icon = files.find("/favicon.ico");
  ASSERT_TRUE(icon.has_value());
  EXPECT_EQ(icon->body.size(), sizeof kIcon);  // binary, NUL bytes included
  EXPECT_EQ(files.find("/docs/")->body, "docs");
  EXPECT_EQ(files.find("/a%20b.txt")->body, "spaced");
  EXPECT_EQ(files.find("/app.js")->body, "console.log('hi');");  // first of two wins
  EXPECT_FALSE(files.find("/missing.js").has_value());
  EXPECT_FALSE(files.find("/../index.html").has_value());
  EXPECT_FALSE(files.find("/docs").has_value());  // not a redirect to "/docs/"
}

TEST(HttpStaticFiles, EtagsAreStrongQuotedAndFollowContent) {
  const StaticFiles files(kFiles);
  const std::string_view index_etag = files.find("/index.html")->etag;
  ASSERT_GE(index_etag.size(), 3u);
  EXPECT_EQ(index_etag.front(), '"');
  EXPECT_EQ(index_etag.back(), '"');
  EXPECT_NE(index_etag.substr(0, 2), "W/");
  EXPECT_NE(index_etag, files.find("/app.js")->etag);
  EXPECT_EQ(index_etag, StaticFiles(kFiles).find("/")->etag);  // stable across instances
}

TEST(HttpStaticFiles, GetServesTheFileWithSecurityHeaders) {
  const StaticFiles files(kFiles);
  const Parsed p = get(files, "GET", "/app.js?v=3");
  EXPECT_EQ(p.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(p.body, "console.log('hi');");
  EXPECT_EQ(p.get("content-length"), std::to_string(p.body.size()));
  EXPECT_EQ(p.get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(p.get("etag"), files.find("/app.js")->etag);
  EXPECT_EQ(p.get("cache-control"), "no-cache");
  EXPECT_EQ(p.get("x-content-type-options"), "nosniff");
  EXPECT_EQ(p.get("content-security-policy"),
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'self'");
  EXPECT_EQ(p.get("referrer-policy"), "no-referrer");
  EXPECT_EQ(p.headers.count("connection"), 0u);
}

TEST(HttpStaticFiles, RootServesIndex) {
  const StaticFiles files(kFiles);
  const Parsed p = get(files, "GET", "/");
  EXPECT_EQ(p.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(p.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(p.body, "<!doctype html><title>Parley</title>");
  EXPECT_EQ(get(files, "GET", "http://h/docs/").body, "docs");  // absolute-form too
}

TEST(HttpStaticFiles, HeadGetsGetHeadersWithoutBody) {
  const StaticFiles files(kFiles);
  Parsed get_response = get(files, "GET", "/index.html");
  Parsed head_response = get(files, "HEAD", "/index.html");
  EXPECT_EQ(head_response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head_response.body, "");
  get_response.headers.erase("date");  // may tick between the two calls
  head_response.headers.erase("date");
  EXPECT_EQ(head_response.headers, get_response.headers);
}

TEST(HttpStaticFiles, MatchingIfNoneMatchGives304) {
  const StaticFiles files(kFiles);
  const std::string etag(files.find("/app.js")->etag);
  for (const std::string& condition :
       {etag, "W/" + etag, "\"other\", " + etag, "\"other\",W/" + etag + " ,", std::string("*")}) {
    for (const char* method : {"GET", "HEAD"}) {
      const Parsed p = get(files, method, "/app.js", "If-None-Match: " + condition + "\r\n");
      EXPECT_EQ(p.status_line, "HTTP/1.1 304 Not Modified") << condition;
      EXPECT_EQ(p.body, "");
      EXPECT_EQ(p.headers.count("content-length"), 0u);
      EXPECT_EQ(p.get("etag"), etag);
      EXPECT_EQ(p.get("cache-control"), "no-cache");
    }
  }
  // The list may also be split over several field lines.
  const Parsed p =
      get(files, "GET", "/app.js", "If-None-Match: \"a\"\r\nIf-None-Match: " + etag + "\r\n");
  EXPECT_EQ(p.status_line, "HTTP/1.1 304 Not Modified");
}

TEST(HttpStaticFiles, OtherIfNoneMatchGives200) {
  const StaticFiles files(kFiles);
  const std::string etag(files.find("/app.js")->etag);
  const std::string bare = etag.substr(1, etag.size() - 2);
  for (const std::string& condition :
       {std::string("\"other\""), std::string(files.find("/")->etag), bare, etag + "x", "\"" + bare,
        "garbage " + etag, etag + ", garbage", std::string("")}) {
    const Parsed p = get(files, "GET", "/app.js", "If-None-Match: " + condition + "\r\n");
    EXPECT_EQ(p.status_line, "HTTP/1.1 200 OK") << condition;
    EXPECT_EQ(p.body, "console.log('hi');");
  }
}

TEST(HttpStaticFiles, MissingFileIs404) {
  const StaticFiles files(kFiles);
  const Parsed p = get(files, "GET", "/nope.js");
  EXPECT_EQ(p.status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(p.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(p.body.rfind("404 Not Found: ", 0), 0u);
  EXPECT_EQ(p.headers.count("connection"), 0u);  // framing is fine, keep the connection

  const Parsed head = get(files, "HEAD", "/nope.js");
  EXPECT_EQ(head.status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.get("content-length"), p.get("content-length"));
}

TEST(HttpStaticFiles, TraversalIs400) {
  const StaticFiles files(kFiles);
  for (const char* target :
       {"/../etc/passwd", "/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd", "/.%2e/index.html",
        "//index.html", "/docs/../index.html", "/%00", "/a\\..\\index.html"}) {
    const Parsed p = get(files, "GET", target);
    EXPECT_EQ(p.status_line, "HTTP/1.1 400 Bad Request") << target;
    EXPECT_EQ(p.body.find("Parley"), std::string::npos) << target;
  }
}

TEST(HttpStaticFiles, OtherMethodsAre405WithAllow) {
  const StaticFiles files(kFiles);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    const Parsed p = get(files, method, "/index.html");
    EXPECT_EQ(p.status_line, "HTTP/1.1 405 Method Not Allowed") << method;
    EXPECT_EQ(p.get("allow"), "GET, HEAD");
  }
}

TEST(HttpStaticFiles, ConnectionHeaderFollowsTheRequest) {
  const StaticFiles files(kFiles);
  EXPECT_EQ(get(files, "GET", "/", "Connection: close\r\n").get("connection"), "close");
  EXPECT_EQ(get(files, "GET", "/nope", "Connection: close\r\n").get("connection"), "close");

  const auto respond_10 = [&](const std::string& fields) {
    return parse_response(files.respond(parse_request("GET / HTTP/1.0\r\n" + fields + "\r\n")));
  };
  EXPECT_EQ(respond_10("").get("connection"), "close");
  EXPECT_EQ(respond_10("Connection: keep-alive\r\n").get("connection"), "keep-alive");
}

TEST(HttpStaticFiles, EmptyTableFindsNothing) {
  const StaticFiles files({});
  EXPECT_FALSE(files.find("/").has_value());
  EXPECT_EQ(get(files, "GET", "/").status_line, "HTTP/1.1 404 Not Found");
}

}  // namespace
}  // namespace parley::http
