#include "load/message_stamp.h"

#include <charconv>
#include <cstdio>

namespace parley::bench {
namespace {

// Parses one decimal field ending with ':' and advances `p`.
template <typename T>
bool take_field(const char*& p, const char* end, T& value) {
  auto [next, ec] = std::from_chars(p, end, value);
  if (ec != std::errc() || next == end || *next != ':') return false;
  p = next + 1;
  return true;
}

// Appends a decimal field and its ':'.
template <typename T>
void append_field(std::string& out, T value) {
  char buf[24];  // a 64-bit number has at most 20 digits
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
  out += ':';
}

}  // namespace

StampCodec::StampCodec(uint32_t run_id) : run_id_(run_id) {
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, "PB%08x:", run_id);
  prefix_.assign(buf, static_cast<std::size_t>(n));
}

void StampCodec::encode(const MessageStamp& stamp, std::size_t size, std::string& out) const {
  out.assign(prefix_);
  append_field(out, stamp.sender);
  append_field(out, stamp.seq);
  append_field(out, stamp.send_ns);
  if (out.size() < size) out.append(size - out.size(), '.');
}

std::optional<MessageStamp> StampCodec::decode(std::string_view payload) const {
  if (!payload.starts_with(prefix_)) return std::nullopt;
  const char* p = payload.data() + prefix_.size();
  const char* end = payload.data() + payload.size();
  MessageStamp s;
  if (!take_field(p, end, s.sender) || !take_field(p, end, s.seq) ||
      !take_field(p, end, s.send_ns)) {
    return std::nullopt;
  }
  return s;
}

}  // namespace parley::bench
