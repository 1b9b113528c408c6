// MessageEncoder: which frame each connection gets for a shared text (plain,
// the shared compressed slot, or its own), that compressed frames carry RSV1
// and inflate (with zlib driven directly, as a client would) to the text,
// and the threshold.
#include "ws/message_encoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ws/frame_parser.h"
#include "ws_zlib_reference.h"

namespace parley::ws {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace): test helpers

struct Decoded {
  Opcode op = Opcode::Continuation;
  bool fin = false;
  bool rsv1 = false;
  std::string payload;
};

// One whole server frame, as a client that negotiated deflate reads it.
Decoded decode(std::string_view frame) {
  std::string copy(frame);
  FrameParser parser(Role::Client);
  parser.set_rsv1_allowed(true);
  std::span<char> rest(copy);
  Decoded d;
  for (;;) {
    const auto step = parser.next(rest);
    rest = rest.subspan(step.consumed);
    if (step.event != FrameParser::Event::Header && step.event != FrameParser::Event::Payload) {
      ADD_FAILURE() << "not one whole frame: " << parser.error_reason();
      return d;
    }
    if (step.event == FrameParser::Event::Header) continue;
    d.payload.append(step.payload.data(), step.payload.size());
    if (step.frame_complete) break;
  }
  EXPECT_TRUE(rest.empty()) << "more than one frame";
  d.op = parser.header().opcode;
  d.fin = parser.header().fin;
  d.rsv1 = parser.header().rsv1;
  return d;
}

std::string chat_json(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += R"({"type":"message","room":"lobby","from":"bob","text":"line )" + std::to_string(i) +
         "\"}";
  }
  s.resize(n);
  return s;
}

std::string noise(std::size_t n) {
  std::mt19937 rng(5);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(' ' + rng() % 95);
  return s;
}

const DeflateParams kShared{.server_no_context_takeover = true, .client_no_context_takeover = true};

MessageEncoder::Options opts(std::size_t threshold = 64) {
  return {.threshold = threshold};
}

TEST(MessageEncoder, WithoutDeflateEveryoneSharesThePlainFrame) {
  MessageEncoder a, b;
  EXPECT_FALSE(a.compressing());
  const SharedText text = make_shared_text(chat_json(500));
  const SharedBytes fa = a.frame_for(*text);
  EXPECT_EQ(fa.get(), b.frame_for(*text).get());
  const Decoded d = decode(*fa);
  EXPECT_EQ(d.op, Opcode::Text);
  EXPECT_TRUE(d.fin);
  EXPECT_FALSE(d.rsv1);
  EXPECT_EQ(d.payload, text->text());
}

TEST(MessageEncoder, SharedCompressedFrameIsBuiltOnce) {
  MessageEncoder a(kShared, opts()), b(kShared, opts()), plain;
  const SharedText text = make_shared_text(chat_json(800));
  const SharedBytes fa = a.frame_for(*text);
  EXPECT_EQ(fa.get(), b.frame_for(*text).get());  // the same bytes for both
  EXPECT_NE(fa.get(), plain.frame_for(*text).get());
  EXPECT_LT(fa->size(), 400u);
  const Decoded d = decode(*fa);
  EXPECT_TRUE(d.rsv1);
  EXPECT_EQ(d.op, Opcode::Text);
  RefInflate client(15);
  EXPECT_EQ(client.message(d.payload), text->text());
}

TEST(MessageEncoder, ShortTextsGoPlain) {
  MessageEncoder a(kShared, opts(100)), plain;
  const SharedText short_text = make_shared_text(std::string(99, 'a'));
  EXPECT_EQ(a.frame_for(*short_text).get(), plain.frame_for(*short_text).get());
  const SharedText long_text = make_shared_text(std::string(100, 'a'));
  EXPECT_TRUE(decode(*a.frame_for(*long_text)).rsv1);
}

TEST(MessageEncoder, IncompressibleTextsGoPlain) {
  MessageEncoder a(kShared, opts()), plain;
  const SharedText text = make_shared_text(noise(100));
  EXPECT_EQ(a.frame_for(*text).get(), plain.frame_for(*text).get());
}

TEST(MessageEncoder, SmallWindowMembersShareWhatFitsTheirWindow) {
  DeflateParams small = kShared;
  small.server_max_window_bits = 9;
  MessageEncoder a(small, opts()), big(kShared, opts());
  // 512 bytes fit a 9-bit window whatever the compressor's: shared.
  const SharedText fits = make_shared_text(chat_json(512));
  EXPECT_EQ(a.frame_for(*fits).get(), big.frame_for(*fits).get());
  // Longer: compressed for this member, with its window.
  const SharedText longer = make_shared_text(chat_json(5000));
  const SharedBytes own = a.frame_for(*longer);
  EXPECT_NE(own.get(), big.frame_for(*longer).get());
  RefInflate client(9);
  EXPECT_EQ(client.message(decode(*own).payload), longer->text());
}

TEST(MessageEncoder, WindowOfEightBits) {
  DeflateParams tiny = kShared;
  tiny.server_max_window_bits = 8;
  MessageEncoder a(tiny, opts());
  const SharedText text = make_shared_text(chat_json(4000));
  RefInflate client(8);
  const Decoded d = decode(*a.frame_for(*text));
  EXPECT_TRUE(d.rsv1);
  EXPECT_EQ(client.message(d.payload), text->text());
}

TEST(MessageEncoder, ContextTakeoverCompressesPerMember) {
  const DeflateParams takeover{};
  MessageEncoder a(takeover, opts()), b(takeover, opts());
  RefInflate client_a(15), client_b(15);
  std::size_t first_size = 0;
  for (int i = 0; i < 5; ++i) {
    const SharedText text = make_shared_text(chat_json(600));
    const SharedBytes fa = a.frame_for(*text);
    const SharedBytes fb = b.frame_for(*text);
    EXPECT_NE(fa.get(), fb.get());  // each member has its own context
    const Decoded da = decode(*fa);
    EXPECT_TRUE(da.rsv1);
    EXPECT_EQ(client_a.message(da.payload), text->text());
    EXPECT_EQ(client_b.message(decode(*fb).payload), text->text());
    if (i == 0) first_size = fa->size();
    // Later ones refer back, except the first after trim(), which frees a's
    // compressor: a fresh stream its client decodes all the same.
    if (i > 0 && i != 3) {
      EXPECT_LT(fa->size(), first_size / 4) << i;
    }
    if (i == 2) a.trim();
  }
}

TEST(MessageEncoder, EncodeForEcho) {
  MessageEncoder a(kShared, opts());
  const std::string big = chat_json(3000);
  MessageEncoder::Frame f = a.encode(Opcode::Binary, big);
  const Decoded d = decode(std::string(f.header) + std::string(f.payload));
  EXPECT_EQ(d.op, Opcode::Binary);
  EXPECT_TRUE(d.rsv1);
  RefInflate client(15);
  EXPECT_EQ(client.message(d.payload), big);
  // Below the threshold: the payload itself, behind a plain header.
  const std::string small = "tiny";
  f = a.encode(Opcode::Text, small);
  EXPECT_EQ(f.payload.data(), small.data());
  EXPECT_FALSE(decode(std::string(f.header) + small).rsv1);
  // No deflate: always plain.
  MessageEncoder plain;
  f = plain.encode(Opcode::Text, big);
  EXPECT_EQ(f.payload.data(), big.data());
}

TEST(MessageEncoder, EncodeWithContextTakeoverSendsWhatItCompressed) {
  // Once a message is in the compressor's context it must go out compressed.
  MessageEncoder a(DeflateParams{}, opts(1));
  RefInflate client(15);
  for (const std::string& m : {noise(200), chat_json(300), noise(50), chat_json(300)}) {
    MessageEncoder::Frame f = a.encode(Opcode::Text, m);
    const Decoded d = decode(std::string(f.header) + std::string(f.payload));
    ASSERT_TRUE(d.rsv1);
    EXPECT_EQ(client.message(d.payload), m);
  }
}

TEST(MessageEncoder, ConcurrentLoopsShareOneBuild) {
  const SharedText text = make_shared_text(chat_json(2000));
  std::vector<const std::string*> seen(4);
  std::vector<std::thread> loops;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    loops.emplace_back([&, i] {
      MessageEncoder e(kShared, opts());
      seen[i] = e.frame_for(*text).get();
    });
  }
  for (auto& t : loops) t.join();
  for (const std::string* p : seen) EXPECT_EQ(p, seen[0]);
}

}  // namespace
}  // namespace parley::ws
