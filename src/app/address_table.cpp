#include "app/address_table.h"

#include <utility>

namespace parley::app {

AddressTable::Ticket& AddressTable::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    release();
    table_ = std::exchange(other.table_, nullptr);
  }
  return *this;
}

void AddressTable::Ticket::release() {
  if (table_ == nullptr) return;
  table_->open_.fetch_sub(1, std::memory_order_relaxed);
  table_ = nullptr;
}

AddressTable::Slot& AddressTable::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

void AddressTable::Slot::release() {
  if (entry_ == nullptr) return;
  // No lock: prune() only frees an entry it sees at zero under its shard's
  // lock, and only hold() (under that lock) takes it above zero again. After
  // this decrement the slot never touches the entry.
  entry_->connections.fetch_sub(1, std::memory_order_release);
  entry_ = nullptr;
}

Result<AddressTable::Ticket> AddressTable::admit() {
  std::size_t before = open_.fetch_add(1, std::memory_order_relaxed);
  if (limits_.max_connections != 0 && before >= limits_.max_connections) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Error(Errc::Overloaded, "the server has --max-connections open");
  }
  return Ticket(this);
}

Result<AddressTable::Slot> AddressTable::hold(const net::IpAddress& address) {
  net::AddressKey key = net::limit_key(address);
  std::size_t hash = net::AddressKeyHash{}(key);
  Shard& shard = shards_[(hash >> 56) % kShards];  // high bits: the map uses the low ones
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (shard.entries.size() >= kMaxEntries / kShards) {
      prune_locked(shard, Clock::now(), /*force=*/true);
    }
    auto entry = std::make_unique<Entry>(key, limits_, &message_refusals_, &byte_refusals_);
    it = shard.entries.emplace(key, std::move(entry)).first;
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry& e = *it->second;
  if (limits_.max_per_address != 0 &&
      e.connections.load(std::memory_order_relaxed) >= limits_.max_per_address) {
    return Error(Errc::Overloaded, "the address has --max-connections-per-ip open");
  }
  e.connections.fetch_add(1, std::memory_order_relaxed);
  return Slot(&e);
}

void AddressTable::prune_locked(Shard& shard, Clock::time_point now, bool force) {
  for (auto it = shard.entries.begin(); it != shard.entries.end();) {
    const Entry& e = *it->second;
    bool idle = e.connections.load(std::memory_order_acquire) == 0 && (force || e.idle(now));
    if (idle) {
      it = shard.entries.erase(it);
      entries_.fetch_sub(1, std::memory_order_relaxed);
    } else {
      ++it;
    }
  }
}

std::size_t AddressTable::prune(Clock::time_point now) {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    prune_locked(shard, now, /*force=*/false);
  }
  return addresses();
}

}  // namespace parley::app
