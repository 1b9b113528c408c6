// One message to store, and what the store answers once it is durable (or not).
#pragma once

#include <cstdint>
#include <string>

namespace parley::store {

struct AppendRequest {
  std::string room{};
  std::string user_id{};
  std::string sender_name{};
  // Chosen by the client so a resend after a reconnect is stored once. Empty = no dedup.
  // Ids that start with a timestamp ("<ms, hex>-<counter>") are cheapest: they append to the
  // dedup index instead of landing on a random page of it.
  std::string client_id{};
  std::string text{};
  int64_t ts_ms = 0;  // 0 = the store stamps the wall-clock time of the write
};

struct AppendResult {
  bool ok = false;
  uint64_t id = 0;
  int64_t ts_ms = 0;
  // (room, user_id, client_id) was stored before: id/ts_ms are the original's, nothing was stored.
  bool duplicate = false;
  std::string error{};  // set when !ok
};

}  // namespace parley::store
