// UTF-8 validation throughput: the previous validator (detail::Utf8Reference,
// a table DFA with an 8-byte ASCII skip) against each kernel of
// detail::utf8_impls() and is_valid_utf8 itself, on ASCII, Chinese (3-byte),
// emoji (4-byte) and mixed chat text of 64 B, 1 KiB and 64 KiB (cut back to a
// code point boundary). Results and commands: docs/BENCHMARKS.md, "Hot-path
// kernels".
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "ws/utf8.h"
#include "ws/utf8_reference.h"

namespace parley::ws {
namespace {

constexpr std::string_view kSamples[][2] = {
    {"ascii", "Hey all, the build is green again. Deploying to staging at 5pm; shout if not. "},
    {"chinese", "今天下午五点部署到测试环境，如果有问题请及时告诉我。构建已经恢复正常了。"},
    {"emoji", "😀🎉🚀👍🔥😂🙏💯✨🥳😎🤔👀💪🙌🎶"},
    {"mixed", "Grüße aus Zürich! Встреча в 17:00 👍 会议室B, café ☕ — ok? 😀 "},
};

std::string make_text(std::string_view sample, std::size_t size) {
  std::string text;
  while (text.size() < size) text += sample;
  return std::string(truncate_utf8(text, size));
}

void reference(benchmark::State& state, std::string text) {
  for (auto _ : state) {
    detail::Utf8Reference v;
    benchmark::DoNotOptimize(v.feed(text));
    if (!v.complete()) state.SkipWithError("reference rejected valid text");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void kernel(benchmark::State& state, detail::Utf8Kernel fn, std::string text) {
  for (auto _ : state) {
    uint8_t s = detail::kUtf8Accept;
    benchmark::DoNotOptimize(fn(s, text));
    if (s != detail::kUtf8Accept) state.SkipWithError("kernel rejected valid text");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void dispatched(benchmark::State& state, std::string text) {
  for (auto _ : state) {
    const bool valid = is_valid_utf8(text);
    benchmark::DoNotOptimize(valid);
    if (!valid) state.SkipWithError("is_valid_utf8 rejected valid text");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

const int registered = [] {
  for (const auto& [kind, sample] : kSamples) {
    for (std::size_t size : {64u, 1024u, 64u * 1024u}) {
      const std::string text = make_text(sample, size);
      const std::string suffix = "/" + std::string(kind) + "/" + std::to_string(size);
      benchmark::RegisterBenchmark(("utf8/reference" + suffix).c_str(), reference, text);
      for (const auto& impl : detail::utf8_impls())
        benchmark::RegisterBenchmark(("utf8/" + std::string(impl.name) + suffix).c_str(), kernel,
                                     impl.fn, text);
      benchmark::RegisterBenchmark(("utf8/is_valid_utf8" + suffix).c_str(), dispatched, text);
    }
  }
  return 0;
}();

}  // namespace
}  // namespace parley::ws

BENCHMARK_MAIN();
