// The server's connection count and, per client address, its connections and
// its two rates: WebSocket handshakes, and chat requests shared by all its
// connections (docs/SECURITY.md, "Connection caps" and "Rates per address").
//
// One owner: the Server holds the table, for all its loops. A connection holds
// a Ticket (one of --max-connections) from accept, and a Slot on its address
// (one of --max-connections-per-ip, plus access to the address's rates) from
// accept, or, behind a trusted proxy, from the upgrade, when the client's
// address is known. Both give their place back when the connection goes.
//
// Why one table shared by the loops rather than one per loop: an address's
// connections are spread over the loops (round-robin at accept, so one busy
// address still uses every core; behind a proxy the address is only known
// after the request, on whichever loop has the connection), and the limits
// are per address. Sharding connections by address hash onto loops would
// make the table loop-local, but lose both. What it costs instead:
// - per chat request: one compare-and-swap on the address's SharedRate, which
//   the connection reaches through its Slot; no lock, no lookup;
// - per connection opened or closed: one lookup under one of 16 shard locks;
// - prune(), every few seconds on one loop: a walk of the table, shard by
//   shard, dropping addresses with no connection and full buckets (they have
//   nothing left to remember).
// Size: an entry per address with a connection (at most --max-connections)
// plus recently seen ones; past kMaxEntries a new address first evicts the
// idle entries of its shard, rates and all (an attacker with that many
// addresses is bounded by the global caps, not per-address ones).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "base/result.h"
#include "base/shared_rate.h"
#include "net/ip_address.h"

namespace parley::app {

class AddressTable {
 public:
  using Clock = SharedRate::Clock;

  // 0 means no limit, for each.
  struct Limits {
    std::size_t max_connections = 0;  // open at once, server-wide
    std::size_t max_per_address = 0;  // open at once per address
    double handshake_rate = 0;        // WebSocket handshakes per address per second
    double handshake_burst = 1;
    double message_rate = 0;  // chat requests per address per second
    double message_burst = 1;
    double byte_rate = 0;  // bytes of chat messages per address per second
    double byte_burst = 1;
  };

  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxEntries = 1 << 16;

 private:
  struct Entry {
    Entry(const net::AddressKey& k, const Limits& l, std::atomic<uint64_t>* message_refusals,
          std::atomic<uint64_t>* byte_refusals)
        : key(k),
          handshakes(l.handshake_rate, l.handshake_burst),
          messages(l.message_rate, l.message_burst, message_refusals),
          bytes(l.byte_rate, l.byte_burst, byte_refusals) {}
    bool idle(Clock::time_point now) const {
      return handshakes.full(now) && messages.full(now) && bytes.full(now);
    }
    const net::AddressKey key;
    std::atomic<std::size_t> connections{0};
    SharedRate handshakes;
    SharedRate messages;
    SharedRate bytes;
  };

 public:
  // A place among the server's open connections.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : table_(std::exchange(other.table_, nullptr)) {}
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket() { release(); }
    bool held() const { return table_ != nullptr; }

   private:
    friend class AddressTable;
    explicit Ticket(AddressTable* table) : table_(table) {}
    void release();
    AddressTable* table_ = nullptr;
  };

  // A place among an address's connections, and its rates.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : entry_(std::exchange(other.entry_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { release(); }
    bool held() const { return entry_ != nullptr; }

    const net::AddressKey& key() const { return entry_->key; }
    // One WebSocket handshake; false when the address is over its rate.
    bool take_handshake(Clock::time_point now) { return entry_->handshakes.take(now); }
    double handshake_wait(Clock::time_point now) const {
      return entry_->handshakes.wait_seconds(now);
    }
    // The chat-request rate this address's connections share; valid while
    // the slot is held.
    SharedRate& message_rate() { return entry_->messages; }
    // The byte rate of chat messages they share, likewise.
    SharedRate& byte_rate() { return entry_->bytes; }

   private:
    friend class AddressTable;
    explicit Slot(Entry* entry) : entry_(entry) {}
    void release();
    Entry* entry_ = nullptr;
  };

  explicit AddressTable(Limits limits) : limits_(limits) {}
  AddressTable(const AddressTable&) = delete;
  AddressTable& operator=(const AddressTable&) = delete;

  const Limits& limits() const { return limits_; }

  // A place among the open connections; Errc::Overloaded at --max-connections.
  Result<Ticket> admit();
  // A place among `address`'s connections; Errc::Overloaded when it has
  // --max-connections-per-ip open already.
  Result<Slot> hold(const net::IpAddress& address);
  // Forgets the addresses that hold no connection and whose rates are back
  // to a full burst at `now`. Returns how many entries remain.
  std::size_t prune(Clock::time_point now);

  std::size_t open_connections() const { return open_.load(std::memory_order_relaxed); }
  std::size_t addresses() const { return entries_.load(std::memory_order_relaxed); }
  // Chat requests refused by a per-address rate, server-wide.
  uint64_t messages_refused() const { return message_refusals_.load(std::memory_order_relaxed); }
  // Chat messages refused by a per-address byte rate, server-wide.
  uint64_t bytes_refused() const { return byte_refusals_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<net::AddressKey, std::unique_ptr<Entry>, net::AddressKeyHash> entries;
  };

  // Drops the shard's entries with no connection (and, unless `force`, full
  // buckets). The shard's lock is held.
  void prune_locked(Shard& shard, Clock::time_point now, bool force);

  const Limits limits_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> entries_{0};
  std::atomic<uint64_t> message_refusals_{0};
  std::atomic<uint64_t> byte_refusals_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::app
