#include "load/parley_v1.h"

#include <charconv>
#include <cstdlib>

namespace parley::bench::v1 {
namespace {

void append_number(std::string& out, uint64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// Where the value of `"key":` starts, or npos.
std::size_t value_start(std::string_view payload, std::string_view key, bool last) {
  std::string pattern;
  pattern.reserve(key.size() + 3);
  pattern += '"';
  pattern += key;
  pattern += "\":";
  const std::size_t at = last ? payload.rfind(pattern) : payload.find(pattern);
  return at == std::string_view::npos ? at : at + pattern.size();
}

}  // namespace

void hello(std::string& out, std::string_view name) {
  out.assign(R"({"type":"hello","name":")");
  out += name;
  out += "\"}";
}

void join(std::string& out, std::string_view room, std::optional<uint64_t> since) {
  out.assign(R"({"type":"join","room":")");
  out += room;
  out += '"';
  if (since) {
    out += R"(,"since":)";
    append_number(out, *since);
  }
  out += '}';
}

void send(std::string& out, std::string_view room, uint64_t wall_ms, uint64_t seq,
          std::string_view text) {
  out.assign(R"({"type":"send","room":")");
  out += room;
  out += R"(","id":")";
  char hex[20];
  const auto written = std::to_chars(hex, hex + sizeof hex, wall_ms, 16);
  out.append(hex, written.ptr);
  out += '-';
  append_number(out, seq);
  out += R"(","text":")";
  out += text;
  out += "\"}";
}

Event event_type(std::string_view payload) {
  constexpr std::string_view kHead = R"({"type":")";
  if (!payload.starts_with(kHead)) return Event::Other;
  const std::string_view rest = payload.substr(kHead.size());
  const std::size_t end = rest.find('"');
  if (end == std::string_view::npos) return Event::Other;
  const std::string_view type = rest.substr(0, end);
  if (type == "message") return Event::Message;
  if (type == "ack") return Event::Ack;
  if (type == "presence") return Event::Presence;
  if (type == "joined") return Event::Joined;
  if (type == "welcome") return Event::Welcome;
  if (type == "error") return Event::Error;
  return Event::Other;
}

std::optional<uint64_t> integer_field(std::string_view payload, std::string_view key, bool last) {
  const std::size_t at = value_start(payload, key, last);
  if (at == std::string_view::npos) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] =
      std::from_chars(payload.data() + at, payload.data() + payload.size(), value);
  if (ec != std::errc() || end == payload.data() + at) return std::nullopt;
  return value;
}

std::optional<double> number_field(std::string_view payload, std::string_view key) {
  const std::size_t at = value_start(payload, key, false);
  if (at == std::string_view::npos) return std::nullopt;
  // strtod needs a terminator: copy the short number out first.
  const std::size_t end = payload.find_first_of(",}", at);
  const std::string digits(payload.substr(at, end == std::string_view::npos ? end : end - at));
  char* parsed_end = nullptr;
  const double value = std::strtod(digits.c_str(), &parsed_end);
  if (parsed_end == digits.c_str()) return std::nullopt;
  return value;
}

std::optional<uint64_t> ack_seq(std::string_view ack) {
  // The room comes before the id and cannot contain a quote.
  constexpr std::string_view kId = R"("id":")";
  const std::size_t at = ack.find(kId);
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t dash = ack.find('-', at + kId.size());
  if (dash == std::string_view::npos) return std::nullopt;
  const char* begin = ack.data() + dash + 1;
  const char* const end = ack.data() + ack.size();
  uint64_t seq = 0;
  const auto [stop, ec] = std::from_chars(begin, end, seq);
  if (ec != std::errc() || stop == end || *stop != '"') return std::nullopt;
  return seq;
}

std::optional<std::string_view> message_text(std::string_view message) {
  constexpr std::string_view kText = R"("text":")";
  const std::size_t at = message.find(kText);
  if (at == std::string_view::npos) return std::nullopt;
  return message.substr(at + kText.size());
}

std::size_t history_length(std::string_view joined) {
  constexpr std::string_view kMessage = R"({"type":"message")";
  std::size_t n = 0;
  for (std::size_t at = joined.find(kMessage); at != std::string_view::npos;
       at = joined.find(kMessage, at + kMessage.size())) {
    ++n;
  }
  return n;
}

}  // namespace parley::bench::v1
