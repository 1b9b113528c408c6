// The few parley.v1 messages the JSON modes (ack, join) write, and the little
// they read back from the server's events (docs/PROTOCOL.md).
//
// Reading is by substring, not a JSON parser, and relies on two properties of
// Parley's encoder: `type` is the first field (PROTOCOL.md guarantees that)
// and the output is compact, so every event starts with `{"type":"<name>"`.
// Field values are then found by their `"key":` text. That is safe for the
// fields read here because every string before them is either one of ours
// (rooms, client ids and texts the bench chose: digits, letters, ':', '.',
// '-') or a server id, none of which can contain a quote. A server that wrote
// spaces, or another field order for `type`, would have its events counted as
// `other` and the run would report nothing acknowledged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::bench::v1 {

inline constexpr std::string_view kSubprotocol = "parley.v1";

// Client messages, written into `out` (its capacity is reused). Names, rooms,
// ids and texts must need no JSON escaping (the bench only makes such).
void hello(std::string& out, std::string_view name);
void join(std::string& out, std::string_view room, std::optional<uint64_t> since = std::nullopt);
// The id is "<wall_ms in hex>-<seq>", the web client's format (web/text.js
// makeClientId): ids that grow with time keep the store's client-id index
// append-mostly, as with real clients.
void send(std::string& out, std::string_view room, uint64_t wall_ms, uint64_t seq,
          std::string_view text);

enum class Event { Welcome, Joined, Ack, Message, Presence, Error, Other };
Event event_type(std::string_view payload);

// The unsigned integer after `"key":` (the first occurrence, or the last one
// with `last`), if any.
std::optional<uint64_t> integer_field(std::string_view payload, std::string_view key,
                                      bool last = false);
// The number after `"key":`, fractions allowed (welcome.limits.rate_per_sec).
std::optional<double> number_field(std::string_view payload, std::string_view key);
// The <seq> of an `ack`'s client id (see send()).
std::optional<uint64_t> ack_seq(std::string_view ack);
// The `text` of a `message` event, from its first character to the end of the
// payload (the stamp decoder reads only the start).
std::optional<std::string_view> message_text(std::string_view message);
// How many `message` objects a `joined` carries in `history`.
std::size_t history_length(std::string_view joined);

}  // namespace parley::bench::v1
