// libFuzzer target for http::RequestParser, and for what a server does with a
// parsed request: path resolution and static-file responses.
//
// The input is a byte stream as a client would send it. It is parsed whole,
// one byte at a time (up to 1 KiB), and in pieces whose sizes come from a hash
// of the input (so seeds stay plain HTTP), and all must agree. After each Done the
// rest is parsed as a pipelined request. Invariants: consumed <= fed; Done
// implies a method and a target; Error implies a 4xx/5xx status and a reason.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.h"
#include "http/static_files.h"

namespace {

using parley::http::Request;
using parley::http::RequestParser;
using Status = RequestParser::Status;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
  int error_status = 0;
  Request request;
};

// Feeds `input` in pieces of the sizes `next_size()` returns.
template <typename NextSize>
Outcome feed(std::string_view input, RequestParser::Limits limits, NextSize next_size) {
  RequestParser parser(limits);
  Outcome out;
  while (true) {
    const std::string_view piece = input.substr(0, next_size());
    std::size_t consumed = 0;
    out.status = parser.feed(piece, consumed);
    check(consumed <= piece.size(), "consumed <= fed");
    out.consumed += consumed;
    if (out.status != Status::NeedMore) break;
    check(consumed == piece.size(), "NeedMore takes everything");
    input.remove_prefix(piece.size());
    if (input.empty()) break;
  }
  out.error_status = parser.error_status();
  if (out.status == Status::Error) {
    check(out.error_status >= 400 && out.error_status <= 599, "error status is 4xx/5xx");
    check(!parser.error_reason().empty(), "error has a reason");
  } else {
    check(out.error_status == 0, "no error status without an error");
  }
  if (out.status == Status::Done) {
    check(!parser.request().method.empty(), "Done has a method");
    check(!parser.request().target.empty(), "Done has a target");
  }
  out.request = parser.take_request();
  return out;
}

void check_same(const Outcome& a, const Outcome& b) {
  check(a.status == b.status, "same status under any split");
  check(a.consumed == b.consumed, "same consumed under any split");
  check(a.error_status == b.error_status, "same error under any split");
  if (a.status != Status::Done) return;
  check(a.request.method == b.request.method && a.request.target == b.request.target &&
            a.request.headers.size() == b.request.headers.size(),
        "same request under any split");
  for (std::size_t i = 0; i < a.request.headers.size(); ++i) {
    check(a.request.headers[i].name == b.request.headers[i].name &&
              a.request.headers[i].value == b.request.headers[i].value,
          "same headers under any split");
  }
}

void check_resolved_path(std::string_view request_path) {
  const auto resolved = parley::http::resolve_static_path(request_path);
  if (!resolved) return;
  const std::string& p = *resolved;
  check(!p.empty() && p.front() == '/', "resolved path is absolute");
  check(p.find("//") == std::string::npos, "resolved path has no empty segment");
  check(p.find("/../") == std::string::npos && p.find("/./") == std::string::npos,
        "resolved path has no dot segment");
  check(p.size() < 3 || p.substr(p.size() - 3) != "/..", "resolved path does not end in /..");
  for (unsigned char c : p) check(c >= 0x20 && c != 0x7f && c != '\\', "resolved path is clean");
}

const unsigned char kIndex[] = "<!doctype html>";
const parley::http::EmbeddedFile kFiles[] = {{"/index.html", kIndex, sizeof kIndex - 1}};

void use_request(const Request& request) {
  static const parley::http::StaticFiles files(kFiles);
  (void)request.keep_alive();
  (void)request.header_list("Connection");
  check_resolved_path(request.path());
  const std::string response = files.respond(request);
  check(response.rfind("HTTP/1.1 ", 0) == 0, "response starts with a status line");
  check(response.find("\r\n\r\n") != std::string::npos, "response head is terminated");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : input) hash = (hash ^ c) * 1099511628211ull;

  // Small limits now and then, so 431 paths are reachable with short inputs.
  RequestParser::Limits limits;
  if (hash % 4 == 0) limits = {.max_head_bytes = 64 + hash % 256, .max_headers = hash % 5};

  check_resolved_path(input);

  // Up to a few pipelined requests, each checked under three ways of splitting.
  for (int round = 0; round < 4 && !input.empty(); ++round) {
    const Outcome whole = feed(input, limits, [&] { return input.size(); });
    // Byte by byte costs a feed per byte; on long inputs the random pieces below
    // (1 to 16 bytes) cover the same cuts at a fraction of the time.
    if (input.size() <= 1024) check_same(whole, feed(input, limits, [] { return std::size_t{1}; }));
    std::uint64_t rng = hash + static_cast<std::uint64_t>(round);
    check_same(whole, feed(input, limits, [&] {
                 rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                 return static_cast<std::size_t>(rng >> 60) + 1;  // 1..16 bytes
               }));
    if (whole.status != Status::Done) break;
    check(whole.consumed > 0 && whole.consumed <= input.size(), "Done consumed the head");
    use_request(whole.request);
    input.remove_prefix(whole.consumed);
  }
  return 0;
}
