#include "http/request_parser.h"

#include <algorithm>
#include <array>
#include <limits>

#include "base/strings.h"

namespace parley::http {
namespace {

using CharClass = std::array<bool, 256>;

// tchar (RFC 9110 §5.6.2): what methods, field names and codings are made of.
constexpr CharClass kTokenChars = [] {
  CharClass t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
  return t;
}();

// Visible ASCII but '#': lenient enough for what browsers leave unencoded in a
// URL ('|', '^', '[', ...), strict enough that no space, control byte or
// fragment gets into the target.
constexpr CharClass kTargetChars = [] {
  CharClass t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] = true;
  t['#'] = false;
  return t;
}();

// field-vchar, SP and HTAB (RFC 9110 §5.5): everything but controls and DEL.
// obs-text (0x80-0xFF) is let through as opaque bytes.
constexpr CharClass kValueChars = [] {
  CharClass t{};
  for (int c = 0x20; c <= 0xff; ++c) t[c] = true;
  t[0x7f] = false;
  t['\t'] = true;
  return t;
}();

// uri-host [":" port] (RFC 3986 §3.2): reg-name, IP literal and port characters.
constexpr CharClass kHostChars = [] {
  CharClass t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("-._~!$&'()*+,;=%:[]")) t[c] = true;
  return t;
}();

constexpr bool in(const CharClass& cls, char c) {
  return cls[static_cast<unsigned char>(c)];
}

// Length of the run of `cls` characters at the start of `s`.
std::size_t run_of(const CharClass& cls, std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && in(cls, s[n])) ++n;
  return n;
}

// Calls `f` with each non-empty element of a comma-separated list (RFC 9110
// §5.6.1: empty elements are allowed and ignored); stops early when `f` is false.
template <typename F>
bool for_each_list_element(std::string_view list, F f) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !f(element)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// absolute-form with a scheme we serve and a non-empty authority.
bool is_http_absolute_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_icase(target, scheme)) {
      const std::string_view rest = target.substr(scheme.size());
      return !rest.empty() && rest.front() != '/' && rest.front() != '?';
    }
  }
  return false;
}

}  // namespace

RequestParser::Status RequestParser::feed(std::string_view data, std::size_t& consumed) {
  consumed = 0;
  if (state_ == State::kDone) return Status::Done;
  if (state_ == State::kError) return Status::Error;

  // Parse only what fits in the limit, so nothing is ever built past it.
  const std::size_t usable = std::min(data.size(), limits_.max_head_bytes - head_bytes_);
  consumed = parse(data.substr(0, usable));
  head_bytes_ += consumed;
  if (state_ == State::kDone) return Status::Done;
  if (state_ == State::kError) return Status::Error;
  if (usable < data.size()) {
    consumed = usable + 1;
    fail(431, "request head too large");
    return Status::Error;
  }
  return Status::NeedMore;
}

void RequestParser::reset() {
  *this = RequestParser(limits_);
}

std::size_t RequestParser::parse(std::string_view data) {
  // Each step takes what it can from data[i...] and returns where the next
  // one starts; a step that fails takes the offending byte with it.
  std::size_t i = 0;
  while (i < data.size() && state_ != State::kDone && state_ != State::kError) {
    i = step(data, i);
  }
  return i;
}

std::size_t RequestParser::step(std::string_view data, std::size_t i) {
  switch (state_) {
    case State::kLineStart:
      return line_start(data[i], i);
    case State::kLeadingLf:
      return expect_lf(data[i], i, State::kLineStart);
    case State::kMethod:
      return method(data, i);
    case State::kTarget:
      return target(data, i);
    case State::kVersion:
      return version(data, i);
    case State::kRequestLineLf:
    case State::kFieldLf:
      return expect_lf(data[i], i, State::kFieldStart);
    case State::kFieldStart:
      return field_start(data[i], i);
    case State::kFieldName:
      return field_name(data, i);
    case State::kFieldValue:
      return field_value(data, i);
    case State::kFinalLf:
      i = expect_lf(data[i], i, State::kFinalLf);
      if (state_ == State::kFinalLf && finish_head()) state_ = State::kDone;
      return i;
    case State::kDone:
    case State::kError:
      break;
  }
  return data.size();
}

std::size_t RequestParser::line_start(char c, std::size_t i) {
  if (c == '\r') {
    state_ = State::kLeadingLf;
    return i + 1;
  }
  if (in(kTokenChars, c)) {
    state_ = State::kMethod;
    return i;
  }
  fail(400, c == '\n' ? "bare LF" : "invalid character in method");
  return i + 1;
}

std::size_t RequestParser::expect_lf(char c, std::size_t i, State next) {
  if (c != '\n') {
    fail(400, "CR not followed by LF");
  } else {
    state_ = next;
  }
  return i + 1;
}

std::size_t RequestParser::method(std::string_view data, std::size_t i) {
  const std::size_t n = run_of(kTokenChars, data.substr(i));
  request_.method.append(data.substr(i, n));
  i += n;
  if (i == data.size()) return i;
  if (data[i] != ' ') {
    fail(400, "invalid character in method");
  } else {
    state_ = State::kTarget;
  }
  return i + 1;
}

std::size_t RequestParser::target(std::string_view data, std::size_t i) {
  const std::size_t n = run_of(kTargetChars, data.substr(i));
  request_.target.append(data.substr(i, n));
  i += n;
  if (i == data.size()) return i;
  if (data[i] != ' ') {
    fail(400, "invalid character in request target");
  } else if (finish_target()) {
    state_ = State::kVersion;
  }
  return i + 1;
}

std::size_t RequestParser::version(std::string_view data, std::size_t i) {
  // "HTTP/d.d" is 8 bytes; stop collecting as soon as it cannot be that.
  const std::size_t n = std::min(run_of(kTargetChars, data.substr(i)), 9 - version_.size());
  version_.append(data.substr(i, n));
  i += n;
  if (version_.size() > 8) {
    fail(400, "malformed HTTP version");
    return i;
  }
  if (i == data.size()) return i;
  if (data[i] != '\r') {
    fail(400, "malformed HTTP version");
  } else if (finish_version()) {
    state_ = State::kRequestLineLf;
  }
  return i + 1;
}

std::size_t RequestParser::field_start(char c, std::size_t i) {
  if (c == '\r') {
    state_ = State::kFinalLf;
    return i + 1;
  }
  if (in(kTokenChars, c)) {
    if (request_.headers.size() == limits_.max_headers) {
      fail(431, "too many header fields");
      return i + 1;
    }
    // Browsers send about a dozen fields; growing one by one would move them all thrice.
    if (request_.headers.empty()) request_.headers.reserve(16);
    request_.headers.emplace_back();
    state_ = State::kFieldName;
    return i;
  }
  if (is_ows(c)) {
    // obs-fold, or whitespace between the request line and the first field.
    fail(400, request_.headers.empty() ? "whitespace before the first header field"
                                       : "obsolete line folding");
  } else {
    fail(400, c == '\n' ? "bare LF" : "invalid character in field name");
  }
  return i + 1;
}

std::size_t RequestParser::field_name(std::string_view data, std::size_t i) {
  const std::size_t n = run_of(kTokenChars, data.substr(i));
  request_.headers.back().name.append(data.substr(i, n));
  i += n;
  if (i == data.size()) return i;
  if (data[i] == ':') {
    state_ = State::kFieldValue;
  } else {
    fail(400, is_ows(data[i]) ? "whitespace between field name and colon"
                              : "invalid character in field name");
  }
  return i + 1;
}

std::size_t RequestParser::field_value(std::string_view data, std::size_t i) {
  std::string& value = request_.headers.back().value;
  if (value.empty()) {
    while (i < data.size() && is_ows(data[i])) ++i;  // leading OWS, maybe across feeds
    if (i == data.size()) return i;
  }
  const std::size_t n = run_of(kValueChars, data.substr(i));
  value.append(data.substr(i, n));
  i += n;
  if (i == data.size()) return i;
  if (data[i] != '\r') {
    fail(400, data[i] == '\n' ? "bare LF" : "control character in field value");
    return i + 1;
  }
  while (!value.empty() && is_ows(value.back())) value.pop_back();
  state_ = State::kFieldLf;
  return i + 1;
}

bool RequestParser::finish_target() {
  const std::string& target = request_.target;
  if (target.empty()) return fail(400, "empty request target");
  if (target.front() == '/' || is_http_absolute_form(target)) return true;
  if (target == "*") {
    return request_.method == "OPTIONS" || fail(400, "asterisk-form target outside OPTIONS");
  }
  return fail(400, "request target is neither origin-form nor absolute-form");
}

bool RequestParser::finish_version() {
  const std::string_view v = version_;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) {
    return fail(400, "malformed HTTP version");
  }
  request_.version_major = v[5] - '0';
  request_.version_minor = v[7] - '0';
  if (request_.version_major != 1) return fail(505, "only HTTP/1.x is supported");
  return true;
}

bool RequestParser::finish_head() {
  const Header* host = nullptr;
  const std::string* transfer_encoding = nullptr;
  std::string joined_transfer_encoding;  // only used when the field is repeated
  bool has_content_length = false;
  for (const Header& h : request_.headers) {
    if (iequals(h.name, "host")) {
      if (host != nullptr) return fail(400, "more than one Host field");
      host = &h;
    } else if (iequals(h.name, "content-length")) {
      if (!check_content_length(h.value, has_content_length)) return false;
    } else if (iequals(h.name, "transfer-encoding")) {
      if (transfer_encoding == nullptr) {
        transfer_encoding = &h.value;
      } else {
        if (joined_transfer_encoding.empty()) joined_transfer_encoding = *transfer_encoding;
        joined_transfer_encoding.append(", ").append(h.value);
        transfer_encoding = &joined_transfer_encoding;
      }
    }
  }
  if (host == nullptr) {
    if (request_.version_minor != 0) return fail(400, "missing Host field");
  } else if (!check_host(*host)) {
    return false;
  }
  return check_framing(has_content_length, transfer_encoding);
}

bool RequestParser::check_host(const Header& host) {
  // Empty is valid: a client sends it when the target URI has no authority.
  if (run_of(kHostChars, host.value) != host.value.size()) return fail(400, "invalid Host field");
  return true;
}

bool RequestParser::check_content_length(std::string_view value, bool& seen) {
  // Each element of each Content-Length line must be the same decimal number (RFC 9112 §6.3).
  bool valid = true;
  std::size_t elements = 0;
  for_each_list_element(value, [&](std::string_view element) {
    ++elements;
    std::uint64_t n = 0;
    for (char c : element) {
      if (c < '0' || c > '9' || n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
        valid = false;
        return false;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (seen && n != content_length_) {
      valid = false;
      return false;
    }
    content_length_ = n;
    seen = true;
    return true;
  });
  // A list with an empty element ("5,", ", 5") is invalid too: count the commas.
  if (valid &&
      elements != static_cast<std::size_t>(std::count(value.begin(), value.end(), ',')) + 1) {
    valid = false;
  }
  return valid || fail(400, "invalid or conflicting Content-Length");
}

bool RequestParser::check_framing(bool has_content_length, const std::string* transfer_encoding) {
  if (transfer_encoding == nullptr) return true;
  // Either can frame the body; a message with both is a smuggling attempt (RFC 9112 §6.1).
  if (has_content_length) return fail(400, "both Transfer-Encoding and Content-Length");
  if (request_.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  std::size_t codings = 0;
  std::size_t chunked_count = 0;
  bool last_is_chunked = false;
  bool unknown = false;
  for_each_list_element(*transfer_encoding, [&](std::string_view coding) {
    ++codings;
    last_is_chunked = iequals(coding, "chunked");
    if (last_is_chunked) {
      ++chunked_count;
    } else {
      unknown = true;
    }
    return true;
  });
  // Without chunked last the body has no end (RFC 9112 §6.3), so that is a 400 before it is a 501.
  if (codings == 0 || !last_is_chunked || chunked_count > 1) {
    return fail(400, "Transfer-Encoding must end in a single chunked");
  }
  if (unknown) return fail(501, "unsupported transfer coding");
  chunked_ = true;
  return true;
}

bool RequestParser::fail(int status, std::string_view reason) {
  state_ = State::kError;
  error_status_ = status;
  error_reason_ = reason;
  return false;
}

}  // namespace parley::http
