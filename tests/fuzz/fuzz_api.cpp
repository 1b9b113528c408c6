// libFuzzer target for the backend API's parsers (docs/API.md): the first
// byte picks the input, the rest is the body of a POST (parse_api_post) or a
// request target (parse_api_target, every method).
//
// Invariants: nothing crashes or throws; a parsed post satisfies the rules
// (client id, text within the limit, a valid normalised name, reply_to <=
// 2^53); a parsed target names a valid room and a bounded UTF-8 user; every
// error carries an API code whose error body is valid JSON that reads back
// the code and message.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/api_route.h"
#include "chat/api_codec.h"
#include "chat/client_message.h"
#include "chat/room.h"
#include "http/query.h"

namespace {

using namespace parley;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void check_error(const Error& error) {
  static simdjson::dom::parser parser;
  chat::ApiErrorCode code = chat::api_error_code(error);
  std::string body = chat::encode_api_error(code, error.message);
  simdjson::dom::element root;
  check(!parser.parse(body).get(root), "an error body is valid JSON");
  std::string_view got;
  check(!root["error"]["code"].get(got) && got == chat::api_error_name(code), "error code");
  check(!root["error"]["message"].get(got) && got == error.message, "error message");
}

void fuzz_post(std::string_view body) {
  constexpr std::size_t kMaxText = 64;
  auto post = chat::parse_api_post(body, kMaxText);
  if (!post) {
    check_error(post.error());
    return;
  }
  check(chat::is_valid_client_id(post->client_id), "a valid client id");
  check(!post->text.empty() && post->text.size() <= kMaxText, "text within the limit");
  check(post->name.empty() || chat::is_valid_name(post->name), "a valid name");
  check(post->reply_to <= chat::kMaxSafeInteger, "reply_to <= 2^53");
  std::string posted = chat::encode_api_posted("r", post->client_id, 1, 2, false);
  check(!posted.empty(), "encodes");
}

void fuzz_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  for (std::string_view method : {"GET", "POST", "DELETE", "PUT"}) {
    auto t = app::parse_api_target(method, path, http::query_of(target));
    if (!t) {
      check_error(t.error());
      continue;
    }
    check(t->room.empty() || chat::is_valid_room_name(t->room), "a valid room");
    check(t->user.size() <= 256, "a bounded user");
    check(t->page.limit >= 1 && t->page.limit <= 200, "a bounded page");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    fuzz_target(rest);
  } else {
    fuzz_post(rest);
  }
  return 0;
}
