// The one-line JSON summary a run prints on stdout. Fields keep the order they
// were added in, so the line reads naturally and diffs well between runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::bench {

class JsonLine {
 public:
  JsonLine& text(std::string_view key, std::string_view value);
  JsonLine& number(std::string_view key, double value);  // non-finite becomes null
  JsonLine& count(std::string_view key, uint64_t value);
  JsonLine& flag(std::string_view key, bool value);
  JsonLine& object(std::string_view key, const JsonLine& value);
  JsonLine& numbers(std::string_view key, const std::vector<double>& values);  // an array

  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

}  // namespace parley::bench
