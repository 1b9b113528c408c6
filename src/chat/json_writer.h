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
#include <type_traits>

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

// The length of `s` as a JSON string's contents: 2 for the short escapes,
// 6 for \u00XX, 1 for the rest.
inline std::size_t escaped_size(std::string_view s) {
  std::size_t n = s.size();
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    const bool short_form =
        c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t';
    n += short_form ? 1 : 5;
  }
  return n;
}

// Writes the contents of `s` as a JSON string into `dst`, which has room for
// escaped_size(s) bytes: one pass and no reallocation, so that a text made
// of control characters (6 bytes each) costs no more than copying it.
inline void write_escaped(char* dst, std::string_view s) {
  constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') {
      *dst++ = ch;
      continue;
    }
    *dst++ = '\\';
    switch (c) {
      case '"':
        *dst++ = '"';
        break;
      case '\\':
        *dst++ = '\\';
        break;
      case '\b':
        *dst++ = 'b';
        break;
      case '\f':
        *dst++ = 'f';
        break;
      case '\n':
        *dst++ = 'n';
        break;
      case '\r':
        *dst++ = 'r';
        break;
      case '\t':
        *dst++ = 't';
        break;
      default:
        *dst++ = 'u';
        *dst++ = '0';
        *dst++ = '0';
        *dst++ = kHex[c >> 4];
        *dst++ = kHex[c & 0xf];
    }
  }
}

template <class Out>
void append_string(Out& out, std::string_view s) {
  const std::size_t n = escaped_size(s);
  if constexpr (std::is_same_v<Out, std::string>) {
    const std::size_t at = out.size() + 1;
    out.resize(at + n + 1);
    out[at - 1] = '"';
    if (n == s.size()) {
      s.copy(out.data() + at, n);
    } else {
      write_escaped(out.data() + at, s);
    }
    out.back() = '"';
  } else {
    static_assert(std::is_same_v<Out, ByteCounter>);
    out.size += n + 2;
  }
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
