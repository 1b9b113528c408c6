// Writing JSON objects field by field, for the server's events
// (chat/server_event.cpp). Internal to the codec.
//
// The writer is a template over its output: a std::string to encode, or a
// ByteCounter to learn the exact length of the encoding without making it
// (answers are cut to a byte budget before they are built). One writer for
// both means the two can never disagree.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace parley::chat::json {

// Counts what a std::string would receive.
struct ByteCounter {
  std::size_t size = 0;
  ByteCounter& operator+=(char) {
    ++size;
    return *this;
  }
  ByteCounter& operator+=(std::string_view s) {
    size += s.size();
    return *this;
  }
  void append(std::string_view s) { size += s.size(); }
  void append(const char*, std::size_t n) { size += n; }
  void reserve(std::size_t) {}
};

template <class Out>
void append_escaped(Out& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escape, sizeof escape);
    }
  }
}

// Appends `s` as a JSON string: quote, backslash and control characters are
// escaped; other bytes pass through (so `s` must be valid UTF-8). Bytes that
// need no escape (nearly all) are copied in runs rather than one at a time.
template <class Out>
void append_string(Out& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    append_escaped(out, c);
    run = i + 1;
  }
  out.append(s.substr(run));
  out += '"';
}

template <class Out, typename Number>
void append_number(Out& out, Number value) {
  char digits[32];  // the longest double is 24 characters
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(result.ptr - digits));
}

// One JSON object, field by field. Keys are literals of the codec and never
// need escaping.
template <class Out>
class Object {
 public:
  explicit Object(Out& out) : out_(out) { out_ += '{'; }

  Object& string(std::string_view key, std::string_view value) {
    append_string(start(key), value);
    return *this;
  }
  Object& unsigned_int(std::string_view key, uint64_t value) {
    append_number(start(key), value);
    return *this;
  }
  Object& signed_int(std::string_view key, int64_t value) {
    append_number(start(key), value);
    return *this;
  }
  // Shortest form that reads back exactly (to_chars); JSON has no NaN or
  // infinity, so those become null.
  Object& number(std::string_view key, double value) {
    Out& out = start(key);
    if (std::isfinite(value)) {
      append_number(out, value);
    } else {
      out += "null";
    }
    return *this;
  }
  Object& boolean(std::string_view key, bool value) {
    start(key) += value ? "true" : "false";
    return *this;
  }
  // An array of elements, each written by write(out, element).
  template <typename T, typename Write>
  Object& array(std::string_view key, std::span<const T> elements, Write write) {
    start(key) += '[';
    for (std::size_t i = 0; i < elements.size(); ++i) {
      if (i > 0) out_ += ',';
      write(out_, elements[i]);
    }
    out_ += ']';
    return *this;
  }
  // Writes "key": and returns the output for a nested value.
  Out& start(std::string_view key) {
    if (!empty_) out_ += ',';
    empty_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return out_;
  }
  void close() { out_ += '}'; }

 private:
  Out& out_;
  bool empty_ = true;
};

}  // namespace parley::chat::json
