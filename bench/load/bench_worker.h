// One bench event loop, on its own thread, and the clients it owns.
//
// Client number n (0..C-1) lives on worker n % threads in local slot
// n / threads, so senders and receivers spread evenly over the loops and a
// worker finds its clients by arithmetic, without a shared table. Nothing on
// the data path is shared between workers: each keeps its own counters and
// histogram, publishes a few totals through atomics once per loop iteration
// for the coordinator's progress checks, and hands the rest over after stop().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "load/bench_options.h"
#include "load/ws_client.h"
#include "load/ws_target.h"
#include "net/event_loop.h"

namespace parley::bench {

class BenchWorker : public WsClient::Events {
 public:
  BenchWorker(const BenchOptions& options, const WsTarget& target, std::size_t index);
  virtual ~BenchWorker();
  BenchWorker(const BenchWorker&) = delete;
  BenchWorker& operator=(const BenchWorker&) = delete;

  void start();  // spawns the loop's thread
  void stop();   // stops the loop and joins: the caller may then read anything

  // Opens this worker's share of `total` clients at `rate` per second (its
  // share of the rate), at most kMaxPendingConnects handshakes at a time.
  // Thread-safe.
  void open_clients(std::size_t total, double rate);

  // Thread-safe progress of open_clients.
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // Clients that were open and then closed (by the server or an error).
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
  // The first reason a client closed or failed to open, after stop().
  const std::string& first_error() const { return first_error_; }

 protected:
  // WsClient::Events. Text is ignored unless a mode overrides on_text.
  void on_open(WsClient& client) override;
  void on_text(WsClient&, std::string_view, int64_t) override {}
  void on_closed(WsClient& client, std::string_view why) override;

  // Called on the loop thread before it sleeps; modes copy their live
  // counters into atomics here.
  virtual void publish() {}

  // Runs `tick` every `period` on the loop thread until it returns false.
  void repeat(net::Clock::duration period, std::function<bool()> tick);

  // The global client number of local slot `slot`, and the other way round.
  std::size_t global_number(std::size_t slot) const { return slot * threads_ + index_; }
  std::size_t local_slot(std::size_t global) const { return global / threads_; }
  bool owns(std::size_t global) const { return global % threads_ == index_; }
  // How many of the first `total` client numbers are this worker's.
  std::size_t local_share(std::size_t total) const;

  // Creates the client for local slot `slot` and starts connecting it, from
  // the source address numbered `source_number` when --source-ips is set.
  // Returns null when the connect failed at once (the reason is noted).
  WsClient* open_client(std::size_t slot, uint32_t id, std::size_t source_number);
  void note_error(std::string_view why);

  const BenchOptions& options_;
  const WsTarget& target_;
  const std::size_t index_;
  const std::size_t threads_;
  // Offered (and required) by every client open_client makes; empty: none.
  std::string subprotocol_;
  net::EventLoop loop_;
  std::vector<std::unique_ptr<WsClient>> clients_;  // by local slot; null when not (yet) open

 private:
  void open_due_clients();

  static constexpr std::size_t kMaxPendingConnects = 512;
  std::thread thread_;
  std::size_t to_open_ = 0;    // local clients open_clients asked for
  std::size_t next_slot_ = 0;  // the next one to connect
  std::size_t pending_ = 0;    // connecting now
  double open_rate_ = 0;       // per second, this worker's share
  int64_t open_started_ns_ = 0;
  std::atomic<uint64_t> opened_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> lost_{0};
  std::string first_error_;
};

}  // namespace parley::bench
