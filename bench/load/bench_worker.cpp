#include "load/bench_worker.h"

#include <algorithm>
#include <cmath>

namespace parley::bench {
namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kOpenTick = std::chrono::milliseconds(2);

}  // namespace

BenchWorker::BenchWorker(const BenchOptions& options, const WsTarget& target, std::size_t index)
    : options_(options), target_(target), index_(index), threads_(options.threads) {
  loop_.add_before_sleep([this] { publish(); });
}

BenchWorker::~BenchWorker() {
  stop();
  // Clients go before the loop they are registered with.
  clients_.clear();
}

void BenchWorker::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void BenchWorker::stop() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
  // The caller (the coordinator) now owns the stopped loop and its clients.
  loop_.adopt_thread();
}

std::size_t BenchWorker::local_share(std::size_t total) const {
  return total > index_ ? (total - index_ + threads_ - 1) / threads_ : 0;
}

void BenchWorker::repeat(net::Clock::duration period, std::function<bool()> tick) {
  loop_.run_after(period, [this, period, tick = std::move(tick)]() mutable {
    if (tick()) repeat(period, std::move(tick));
  });
}

void BenchWorker::open_clients(std::size_t total, double rate) {
  loop_.post([this, total, rate] {
    to_open_ = local_share(total);
    if (clients_.size() < to_open_) clients_.resize(to_open_);
    open_rate_ = rate / static_cast<double>(threads_);
    open_started_ns_ = now_ns();
    open_due_clients();
    repeat(kOpenTick, [this] {
      open_due_clients();
      return next_slot_ < to_open_;
    });
  });
}

void BenchWorker::open_due_clients() {
  const double elapsed_s = static_cast<double>(now_ns() - open_started_ns_) / 1e9;
  // +1: the first connection goes at once rather than one interval later.
  const auto due = std::min(to_open_, static_cast<std::size_t>(elapsed_s * open_rate_) + 1);
  while (next_slot_ < due && pending_ < kMaxPendingConnects) {
    const std::size_t slot = next_slot_++;
    const auto number = global_number(slot);
    if (open_client(slot, static_cast<uint32_t>(number), number) != nullptr) {
      ++pending_;
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

WsClient* BenchWorker::open_client(std::size_t slot, uint32_t id, std::size_t source_number) {
  auto client = std::make_unique<WsClient>(loop_, target_, *this, id);
  if (!subprotocol_.empty()) client->require_subprotocol(subprotocol_);
  if (options_.deflate) client->offer_deflate();
  // idle --rooms N: client n in room "<path>-<n % N>" (e.g. /ws/idle-7).
  if (options_.mode == "idle" && options_.rooms > 1) {
    client->set_path(target_.path + "-" + std::to_string(id % options_.rooms));
  }
  in_addr source{};
  const in_addr* bind_to = nullptr;
  if (options_.source_ips > 0) {
    source = source_address(source_number, options_.source_ips);
    bind_to = &source;
  }
  std::string error = client->connect(bind_to, kHandshakeTimeout);
  if (!error.empty()) {
    note_error(error);
    return nullptr;
  }
  if (clients_.size() <= slot) clients_.resize(slot + 1);
  clients_[slot] = std::move(client);
  return clients_[slot].get();
}

void BenchWorker::on_open(WsClient&) {
  --pending_;
  opened_.fetch_add(1, std::memory_order_relaxed);
}

void BenchWorker::on_closed(WsClient& client, std::string_view why) {
  note_error(why);
  if (client.has_opened()) {
    lost_.fetch_add(1, std::memory_order_relaxed);
  } else {
    --pending_;
    failed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void BenchWorker::note_error(std::string_view why) {
  if (first_error_.empty()) first_error_ = std::string(why);
}

}  // namespace parley::bench
