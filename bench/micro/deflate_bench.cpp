// permessage-deflate cost per broadcast: one chat message (a parley.v1
// "message" event of a given size) framed for 100 recipients, through
// ws::MessageEncoder, three ways:
//   plain     no compression: the shared plain frame (the baseline);
//   shared    the default policy (server_no_context_takeover): compressed
//             once into the shared slot, the other 99 take the same bytes;
//   takeover  --deflate takeover: each recipient has its own compression
//             context, so the message is compressed 100 times.
// A stream of 256 different messages (random words) goes round, so contexts
// see realistic history. Counters: wire bytes per recipient (frame header
// included) and the ratio to the plain frame; time is per message (all 100
// recipients). Also inflate per message, as the server does it for a client
// message. Results and commands: docs/BENCHMARKS.md.
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <zlib.h>

#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/shared_text.h"
#include "ws/deflate.h"
#include "ws/endpoint.h"
#include "ws/frame_writer.h"
#include "ws/message_encoder.h"

namespace parley::ws {
namespace {

constexpr int kRecipients = 100;
constexpr std::size_t kStream = 256;

const char* const kWords[] = {
    "the",   "build", "is",      "green", "again",  "deploying", "to",     "staging", "at",
    "five",  "shout", "if",      "not",   "ok",     "thanks",    "lunch",  "meeting", "moved",
    "room",  "B",     "anyone",  "seen",  "the",    "release",   "notes",  "yes",     "no",
    "maybe", "later", "tonight", "fixed", "broken", "again",     "coffee", "please",  "done"};

// A parley.v1 message event of about `size` bytes (at least ~120: the
// fields around the text), or with `json` false the plain text of a seed
// protocol message of `size` bytes.
std::string chat_message(bool json, std::size_t size, std::mt19937& rng, int id) {
  std::string head, tail;
  if (json) {
    head = R"({"type":"message","room":"lobby","msg_id":)" + std::to_string(1000 + id) +
           R"(,"ts":17000000)" + std::to_string(10000 + id) +
           R"(,"user":"u-41","from":"alice","text":")";
    tail = R"(","id":"c-)" + std::to_string(id) + "\"}";
  }
  std::string text;
  while (head.size() + text.size() + tail.size() < size) {
    text += kWords[rng() % std::size(kWords)];
    text += ' ';
  }
  text.resize(size > head.size() + tail.size() ? size - head.size() - tail.size() : 0);
  return head + text + tail;
}

std::vector<std::string> stream_of(bool json, std::size_t size) {
  std::mt19937 rng(42);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kStream; ++i) out.push_back(chat_message(json, size, rng, int(i)));
  return out;
}

enum class Mode { Plain, Shared, Takeover };

void broadcast(benchmark::State& state, Mode mode) {
  const bool json = state.range(0) != 0;
  const auto size = static_cast<std::size_t>(state.range(1));
  const int level = static_cast<int>(state.range(2));
  const std::vector<std::string> stream = stream_of(json, size);
  const MessageEncoder::Options options{.threshold = 0, .level = level};
  const DeflateParams shared{.server_no_context_takeover = true,
                             .client_no_context_takeover = true};
  std::vector<std::unique_ptr<MessageEncoder>> recipients;
  for (int i = 0; i < kRecipients; ++i) {
    if (mode == Mode::Plain) {
      recipients.push_back(std::make_unique<MessageEncoder>());
    } else {
      recipients.push_back(std::make_unique<MessageEncoder>(
          mode == Mode::Shared ? shared : DeflateParams{}, options));
    }
  }
  std::size_t i = 0;
  std::size_t wire = 0, plain = 0, messages = 0;
  for (auto _ : state) {
    const SharedText text = make_shared_text(stream[i++ % kStream]);
    for (auto& r : recipients) {
      const SharedBytes frame = r->frame_for(*text);
      benchmark::DoNotOptimize(frame.get());
      wire += frame->size();
    }
    plain += kRecipients * (text->text().size() + (text->text().size() > 125 ? 4 : 2));
    ++messages;
  }
  state.counters["wire_B"] = double(wire) / double(messages * kRecipients);
  state.counters["ratio"] = double(wire) / double(plain);
}

void inflate(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::vector<std::string> stream = stream_of(true, size);
  // The client's payloads, compressed each on its own (as the default policy
  // asks: client_no_context_takeover).
  std::vector<std::string> payloads;
  Deflater d({.window_bits = 15});
  for (const std::string& m : stream) {
    std::string p;
    d.compress(m, p, false);
    payloads.push_back(std::move(p));
  }
  Inflater inf(15);
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    const std::string& p = payloads[i++ % kStream];
    if (inf.inflate(p, out, 1 << 20) != Inflater::Status::Ok ||
        inf.finish_message(out, 1 << 20, false) != Inflater::Status::Ok) {
      state.SkipWithError("inflate failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * size));
}

// One message compressed on its own by zlib directly, per memLevel: the
// stateless compressor resets its hash table (2^(memLevel+8) bytes) every time.
void deflate_once(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const int mem_level = static_cast<int>(state.range(1));
  const std::vector<std::string> stream = stream_of(false, size);
  Deflater d({.window_bits = 15, .mem_level = mem_level, .level = 6});
  std::string out;
  std::size_t i = 0, wire = 0;
  for (auto _ : state) {
    out.clear();
    d.compress(stream[i++ % kStream], out, false);
    wire += out.size();
  }
  state.counters["wire_B"] = double(wire) / double(state.iterations());
}

// Heap held per connection by the WebSocket layer (Endpoint + MessageEncoder,
// glibc's mallinfo2), after one 2 KiB compressed message in and its echo out
// ("active"), and after trim() as an idle connection gets ("idle"). Arg: 0
// no deflate, 1 the default policy, 2 --deflate takeover (both answering a
// browser's offer). Run alone: other benchmarks' threads skew the counts.
struct Connection final : Endpoint::Handler {
  Connection(const DeflateParams* params)
      : endpoint(Role::Server, {}, *this),
        encoder(params ? MessageEncoder(*params, {}) : MessageEncoder()) {
    if (params) endpoint.enable_deflate(*params);
  }
  void on_message(Opcode op, std::string_view payload) override {
    const MessageEncoder::Frame f = encoder.encode(op, payload);
    benchmark::DoNotOptimize(f.payload.data());
  }
  void send(std::string_view) override {}
  void on_close(uint16_t, std::string_view) override {}
  Endpoint endpoint;
  MessageEncoder encoder;
};

void connection_memory(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  const DeflateParams shared = {.server_no_context_takeover = true,
                                .client_no_context_takeover = true,
                                .client_max_window_bits = kClientWindowBits};
  const DeflateParams takeover = {.client_max_window_bits = kClientWindowBits};
  const DeflateParams* params = mode == 0 ? nullptr : mode == 1 ? &shared : &takeover;
  std::mt19937 rng(1);
  const std::string text = chat_message(false, 2048, rng, 0);
  std::string frame;
  if (params) {
    Deflater client({.window_bits = params->client_max_window_bits});
    std::string payload;
    client.compress(text, payload, false);
    append_masked_frame(frame, Opcode::Text, payload, {1, 2, 3, 4}, true, true);
  } else {
    append_masked_frame(frame, Opcode::Text, text, {1, 2, 3, 4});
  }
  constexpr int kConnections = 1000;
  double active = 0, idle = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<Connection>> conns;
    conns.reserve(kConnections);
    const auto before = static_cast<double>(mallinfo2().uordblks);
    for (int i = 0; i < kConnections; ++i) {
      conns.push_back(std::make_unique<Connection>(params));
      std::string copy = frame;
      conns.back()->endpoint.feed(copy);
    }
    active = (static_cast<double>(mallinfo2().uordblks) - before) / kConnections;
    for (auto& c : conns) {
      c->endpoint.trim();
      c->encoder.trim();
    }
    idle = (static_cast<double>(mallinfo2().uordblks) - before) / kConnections;
  }
  state.counters["active_B"] = active;
  state.counters["idle_B"] = idle;
}

// Args: {json, size, level}.
void sizes(benchmark::internal::Benchmark* b) {
  for (int level : {1, 6}) {
    for (int size : {32, 48, 64, 96, 128, 192, 256}) b->Args({0, size, level});
    for (int size : {128, 192, 256, 512, 1024, 4096}) b->Args({1, size, level});
  }
}

BENCHMARK_CAPTURE(broadcast, plain, Mode::Plain)->Args({0, 64, 0})->Args({1, 256, 0});
BENCHMARK_CAPTURE(broadcast, shared, Mode::Shared)->Apply(sizes);
BENCHMARK_CAPTURE(broadcast, takeover, Mode::Takeover)->Apply(sizes);
BENCHMARK(inflate)->Arg(128)->Arg(256)->Arg(1024)->Arg(4096);
BENCHMARK(connection_memory)->Arg(0)->Arg(1)->Arg(2)->Iterations(1);
BENCHMARK(deflate_once)->ArgsProduct({{64, 256, 1024, 4096}, {1, 4, 6, 8}});

}  // namespace
}  // namespace parley::ws

BENCHMARK_MAIN();
