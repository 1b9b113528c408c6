#pragma once

// A simdjson DOM parser with its own padded input buffer, one per thread.
//
// simdjson reads its input in 64-byte blocks and so needs SIMDJSON_PADDING
// readable bytes past the end. The text we get is usually a view into a
// receive buffer where those bytes may not exist, so it is copied into a padded
// buffer. Parser and buffer keep the capacity of the largest input seen: in
// steady state a parse costs one memcpy and no allocation. The parser is not
// reentrant, hence one per thread (`for_this_thread`).
//
// Header-only: include it only from targets that link simdjson (chat, auth).

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace parley {

class PaddedJsonParser {
 public:
  // `initial_capacity` bytes are reserved on first use; the parser keeps
  // `max_depth` as its nesting limit when its capacity later grows.
  PaddedJsonParser(std::size_t initial_capacity, std::size_t max_depth)
      : initial_capacity_(initial_capacity), max_depth_(max_depth) {}

  simdjson::error_code parse(std::string_view json, simdjson::dom::element& root) {
    if (!allocated_) {
      if (auto error = parser_.allocate(initial_capacity_, max_depth_)) return error;
      allocated_ = true;
    }
    const std::size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (buffer_.size() < needed) buffer_.resize(needed);
    if (!json.empty()) std::memcpy(buffer_.data(), json.data(), json.size());
    std::memset(buffer_.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return parser_.parse(buffer_.data(), json.size(), /*realloc_if_needed=*/false).get(root);
  }

 private:
  simdjson::dom::parser parser_;
  std::vector<char> buffer_;
  std::size_t initial_capacity_;
  std::size_t max_depth_;
  bool allocated_ = false;
};

}  // namespace parley
