// Unmasking throughput: the byte-at-a-time reference against each kernel of
// detail::mask_impls() and apply_mask itself, on payloads of 64 B, 1 KiB and
// 64 KiB. The payload starts 6 bytes into its buffer, where a small masked
// frame's payload starts (2-byte header + 4-byte key), so it is misaligned as
// in frame_parser. Results and commands: docs/BENCHMARKS.md, "Hot-path kernels".
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "ws/mask.h"
#include "ws/mask_reference.h"

namespace parley::ws {
namespace {

constexpr std::size_t kPayloadOffset = 6;
constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

void run(benchmark::State& state, detail::MaskFn fn) {
  const auto len = static_cast<std::size_t>(state.range(0));
  std::vector<char> buffer(len + kPayloadOffset + 64, 'x');
  char* const payload = buffer.data() + kPayloadOffset;
  for (auto _ : state) {
    fn(payload, len, kKey, 1);
    benchmark::DoNotOptimize(payload);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}

void apply(char* data, std::size_t len, MaskKey mask, std::size_t offset) {
  apply_mask(data, len, mask, offset);
}

const int registered = [] {
  const auto add = [](const std::string& name, detail::MaskFn fn) {
    benchmark::RegisterBenchmark(("mask/" + name).c_str(), run, fn)
        ->Arg(64)
        ->Arg(1024)
        ->Arg(64 * 1024);
  };
  add("reference", detail::mask_reference);
  for (const auto& impl : detail::mask_impls()) add(impl.name, impl.fn);
  add("apply_mask", apply);
  return 0;
}();

}  // namespace
}  // namespace parley::ws

BENCHMARK_MAIN();
