// A read-only view of one hiredis reply, valid only during the callback that
// receives it (hiredis frees the reply when the callback returns): copy out
// what you keep.
#pragma once

#include <cstddef>
#include <string_view>

struct redisReply;

namespace parley::redis {

class Reply {
 public:
  explicit Reply(const redisReply* r) : r_(r) {}

  bool is_nil() const;
  bool is_integer() const;
  bool is_string() const;  // bulk or status
  bool is_array() const;
  bool is_error() const;

  long long integer() const;     // 0 unless an integer
  std::string_view str() const;  // "" unless a string, status or error
  std::size_t size() const;      // elements of an array, else 0
  Reply operator[](std::size_t i) const;

 private:
  const redisReply* r_;
};

}  // namespace parley::redis
