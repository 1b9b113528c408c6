#include "load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace parley::bench {

int LatencyHistogram::bucket_of(uint64_t us) {
  if (us < (uint64_t{1} << kLinearBits)) return static_cast<int>(us);
  const int exponent = std::bit_width(us) - 1;  // >= kLinearBits
  if (exponent >= kMaxExponent) return kBuckets - 1;
  const uint64_t sub = (us >> (exponent - kSubBits)) & ((1 << kSubBits) - 1);
  return (1 << kLinearBits) + (exponent - kLinearBits) * (1 << kSubBits) + static_cast<int>(sub);
}

uint64_t LatencyHistogram::lower_edge_us(int bucket) {
  if (bucket < (1 << kLinearBits)) return static_cast<uint64_t>(bucket);
  const int rest = bucket - (1 << kLinearBits);
  const int exponent = kLinearBits + rest / (1 << kSubBits);
  const uint64_t sub = static_cast<uint64_t>(rest % (1 << kSubBits));
  return (uint64_t{1} << exponent) + (sub << (exponent - kSubBits));
}

void LatencyHistogram::record(int64_t ns) {
  const uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
  ++counts_[static_cast<std::size_t>(bucket_of(v / 1000))];
  ++count_;
  max_ns_ = std::max(max_ns_, v);
  sum_ns_ += static_cast<long double>(v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
}

double LatencyHistogram::percentile_us(double q) const {
  if (count_ == 0) return 0;
  // The rank of the q-quantile, 1-based: p50 of 2 samples is the first.
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<std::size_t>(b)];
    if (seen >= std::max<uint64_t>(rank, 1)) return static_cast<double>(lower_edge_us(b));
  }
  return max_us();
}

double LatencyHistogram::mean_us() const {
  if (count_ == 0) return 0;
  return static_cast<double>(sum_ns_ / static_cast<long double>(count_)) / 1000.0;
}

}  // namespace parley::bench
