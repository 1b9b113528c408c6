// Latency distribution in bounded memory (HDR-like, log-linear buckets).
//
// Below 1024 µs every microsecond has its own bucket; above, each power-of-two
// range is split into 128 buckets, so a reported percentile is within 0.8% of
// the true value. About 40 KB whatever the sample count: one per event loop,
// merged at the end, no sample vector growing with the run.
#pragma once

#include <array>
#include <cstdint>

namespace parley::bench {

class LatencyHistogram {
 public:
  // A latency in nanoseconds; negative values (clock skew cannot happen on one
  // steady clock, but a corrupted stamp could) count as 0.
  void record(int64_t ns);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // In microseconds: the lower edge of the bucket holding the q-quantile
  // (0 < q <= 1), 0 when empty.
  double percentile_us(double q) const;
  double max_us() const { return static_cast<double>(max_ns_) / 1000.0; }
  double mean_us() const;

 private:
  static constexpr int kLinearBits = 10;   // 1024 one-µs buckets
  static constexpr int kSubBits = 7;       // 128 buckets per power of two above
  static constexpr int kMaxExponent = 40;  // ~12 days in µs: nothing real goes past this
  static constexpr int kBuckets =
      (1 << kLinearBits) + (kMaxExponent - kLinearBits) * (1 << kSubBits);

  static int bucket_of(uint64_t us);
  static uint64_t lower_edge_us(int bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
  long double sum_ns_ = 0;
};

}  // namespace parley::bench
