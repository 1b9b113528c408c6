#include "load/json_line.h"

#include <cmath>
#include <cstdio>

namespace parley::bench {
namespace {

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// A number as number() writes it: three decimals, trailing zeros cut;
// non-finite becomes null.
void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  out += s;
}

}  // namespace

void JsonLine::key(std::string_view k) {
  if (!body_.empty()) body_ += ',';
  append_escaped(body_, k);
  body_ += ':';
}

JsonLine& JsonLine::text(std::string_view k, std::string_view value) {
  key(k);
  append_escaped(body_, value);
  return *this;
}

JsonLine& JsonLine::number(std::string_view k, double value) {
  // Three decimals are plenty for rates and seconds.
  key(k);
  append_number(body_, value);
  return *this;
}

JsonLine& JsonLine::count(std::string_view k, uint64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::flag(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::numbers(std::string_view k, const std::vector<double>& values) {
  key(k);
  body_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) body_ += ',';
    append_number(body_, values[i]);
  }
  body_ += ']';
  return *this;
}

JsonLine& JsonLine::object(std::string_view k, const JsonLine& value) {
  key(k);
  body_ += value.str();
  return *this;
}

}  // namespace parley::bench
