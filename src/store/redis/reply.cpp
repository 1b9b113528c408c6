#include "store/redis/reply.h"

#include <hiredis/hiredis.h>

namespace parley::redis {

bool Reply::is_nil() const {
  return r_ == nullptr || r_->type == REDIS_REPLY_NIL;
}
bool Reply::is_integer() const {
  return r_ != nullptr && r_->type == REDIS_REPLY_INTEGER;
}
bool Reply::is_string() const {
  return r_ != nullptr && (r_->type == REDIS_REPLY_STRING || r_->type == REDIS_REPLY_STATUS);
}
bool Reply::is_array() const {
  return r_ != nullptr && r_->type == REDIS_REPLY_ARRAY;
}
bool Reply::is_error() const {
  return r_ != nullptr && r_->type == REDIS_REPLY_ERROR;
}

long long Reply::integer() const {
  return is_integer() ? r_->integer : 0;
}

std::string_view Reply::str() const {
  if (is_string() || is_error()) return {r_->str, r_->len};
  return {};
}

std::size_t Reply::size() const {
  return is_array() ? r_->elements : 0;
}

Reply Reply::operator[](std::size_t i) const {
  return Reply(i < size() ? r_->element[i] : nullptr);
}

}  // namespace parley::redis
