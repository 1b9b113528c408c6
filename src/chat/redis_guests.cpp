#include "chat/redis_guests.h"

#include <chrono>

#include "store/redis/connection.h"

namespace parley::chat {
namespace {
constexpr auto kRetry = std::chrono::milliseconds(500);
}

RedisGuests::RedisGuests(redis::Connection& connection, uint64_t block)
    : connection_(connection), block_(block), self_(std::make_shared<RedisGuests*>(this)) {}

RedisGuests::~RedisGuests() {
  self_.reset();
}

void RedisGuests::start() {
  {
    std::lock_guard lock(mutex_);
    leasing_ = true;
  }
  lease();
}

uint64_t RedisGuests::next() {
  bool ask = false;
  uint64_t n = 0;
  {
    std::lock_guard lock(mutex_);
    if (next_ == end_ && spare_ != spare_end_) {
      next_ = spare_;
      end_ = spare_end_;
      spare_ = spare_end_ = 0;
    }
    if (next_ < end_) {
      n = next_++;
    } else {
      n = local_++;
    }
    // Half a block left and none ahead: lease the next one now.
    if (!leasing_ && spare_ == spare_end_ && end_ - next_ < block_ / 2) {
      leasing_ = true;
      ask = true;
    }
  }
  if (ask) {
    std::weak_ptr<RedisGuests*> self = self_;
    connection_.loop().post([self] {
      if (auto s = self.lock()) (*s)->lease();
    });
  }
  return n;
}

bool RedisGuests::leased() const {
  std::lock_guard lock(mutex_);
  return leased_;
}

void RedisGuests::connection_up() {
  if (waiting_for_up_) lease();
}

void RedisGuests::lease() {
  waiting_for_up_ = false;
  std::weak_ptr<RedisGuests*> self = self_;
  std::string block = std::to_string(block_);
  connection_.command({"INCRBY", "parley:guests", block}, [self](Result<redis::Reply> r) {
    auto s = self.lock();
    if (!s) return;
    if (r && r->is_integer()) {
      (*s)->on_lease(static_cast<uint64_t>(r->integer()));
      return;
    }
    // Not up yet, or Redis away: again when it comes up, or a little later.
    (*s)->waiting_for_up_ = true;
    (*s)->connection_.loop().run_after(kRetry, [self] {
      auto s2 = self.lock();
      if (s2 && (*s2)->waiting_for_up_) (*s2)->lease();
    });
  });
}

void RedisGuests::on_lease(uint64_t end) {
  std::lock_guard lock(mutex_);
  leasing_ = false;
  leased_ = true;
  // The counter's value is the last number of the block: [end - block + 1, end].
  uint64_t first = end - block_ + 1;
  if (next_ == end_) {
    next_ = first;
    end_ = end + 1;
  } else {
    spare_ = first;
    spare_end_ = end + 1;
  }
}

}  // namespace parley::chat
