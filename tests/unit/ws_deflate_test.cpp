// Deflater and Inflater (RFC 7692 §7.2), each checked against zlib driven
// directly as the reference: our payloads inflate with a plain raw inflate
// once the tail is appended, and payloads a plain raw deflate produces (tail
// removed) inflate with ours. Plus the limits: a zip bomb stops at the limit.
#include "ws/deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws_zlib_reference.h"

namespace parley::ws {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace): test helpers

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string chat_like_text(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += R"({"type":"message","room":"lobby","from":"alice","text":"hello number )" +
         std::to_string(i) + " 你好\"}\n";
  }
  s.resize(n);
  return s;
}

std::vector<std::string> samples() {
  return {"",
          "x",
          "hello",
          std::string(200, 'a'),
          chat_like_text(1000),
          chat_like_text(100000),
          random_bytes(5000, 1),
          random_bytes(200000, 2)};
}

Deflater::Settings bits(uint8_t window_bits) {
  return {.window_bits = window_bits};
}

// Inflates `payload` with our Inflater in pieces of `piece` bytes.
Inflater::Status inflate_in_pieces(Inflater& inf, std::string_view payload, std::size_t piece,
                                   std::string& out, std::size_t limit, bool keep = false) {
  for (std::size_t pos = 0; pos < payload.size(); pos += piece) {
    auto st = inf.inflate(payload.substr(pos, piece), out, limit);
    if (st != Inflater::Status::Ok) return st;
  }
  return inf.finish_message(out, limit, keep);
}

TEST(Deflater, PayloadsInflateWithPlainZlib) {
  for (bool keep : {false, true}) {
    Deflater d(bits(15));
    RefInflate ref(15);
    for (const std::string& m : samples()) {
      std::string payload;
      ASSERT_TRUE(d.compress(m, payload, keep));
      // §7.2.1: the tail is removed (an empty message is the single 0x00).
      if (m.empty()) {
        EXPECT_EQ(payload, std::string(1, '\0'));
      }
      EXPECT_FALSE(payload.size() >= 4 && payload.substr(payload.size() - 4) == kTail);
      EXPECT_EQ(ref.message(payload), m) << "size " << m.size() << " keep " << keep;
    }
  }
}

TEST(Deflater, AppendsToWhatIsThere) {
  Deflater d(bits(15));
  std::string out = "head";
  ASSERT_TRUE(d.compress("hello hello hello", out, false));
  EXPECT_EQ(out.substr(0, 4), "head");
  RefInflate ref(15);
  EXPECT_EQ(ref.message(out.substr(4)), "hello hello hello");
}

TEST(Deflater, WithoutContextEachPayloadStandsAlone) {
  Deflater d(bits(15));
  const std::string m = chat_like_text(300);
  std::string a, b;
  ASSERT_TRUE(d.compress(m, a, false));
  ASSERT_TRUE(d.compress(m, b, false));
  EXPECT_EQ(a, b);  // the same bytes for the same message: shareable
  RefInflate fresh(15);
  EXPECT_EQ(fresh.message(b), m);
}

TEST(Deflater, ContextTakeoverRefersBack) {
  Deflater d(bits(15));
  const std::string m = chat_like_text(300);
  std::string a, b;
  ASSERT_TRUE(d.compress(m, a, true));
  ASSERT_TRUE(d.compress(m, b, true));
  EXPECT_LT(b.size(), a.size() / 4);  // the second is mostly a back-reference
  RefInflate ref(15);
  EXPECT_EQ(ref.message(a), m);
  EXPECT_EQ(ref.message(b), m);
}

TEST(Deflater, ReleaseStartsAFreshStreamThePeerStillReads) {
  // A sender with context takeover may stop referring back at any time: the
  // peer's inflater carries on with its window.
  Deflater d(bits(15));
  RefInflate ref(15);
  const std::string m = chat_like_text(500);
  for (int i = 0; i < 3; ++i) {
    std::string p;
    ASSERT_TRUE(d.compress(m, p, true));
    EXPECT_EQ(ref.message(p), m);
    d.release();
    EXPECT_FALSE(d.holds_memory());
  }
}

TEST(Deflater, SmallWindowsAreHonoured) {
  // Repeats 300 bytes apart: a 9-bit (512-byte) window may use them, an
  // 8-bit one may not. A peer inflating with exactly our window must cope.
  const std::string block = random_bytes(300, 7);
  std::string m;
  for (int i = 0; i < 20; ++i) m += block;
  for (uint8_t w = 8; w <= 15; ++w) {
    for (bool keep : {false, true}) {
      Deflater d(bits(w));
      RefInflate ref(w);
      for (int i = 0; i < 3; ++i) {
        std::string p;
        ASSERT_TRUE(d.compress(m, p, keep));
        EXPECT_EQ(ref.message(p), m) << "window " << int{w} << " keep " << keep;
      }
    }
  }
}

TEST(Inflater, InflatesWhatZlibProduces) {
  for (bool keep : {false, true}) {
    for (std::size_t piece :
         {std::size_t{1}, std::size_t{7}, std::size_t{1000}, std::size_t{1} << 30}) {
      RefDeflate ref;
      Inflater inf(15);
      for (const std::string& m : samples()) {
        std::string payload = ref.message(m);
        if (!keep) deflateReset(&ref.z());
        std::string out;
        ASSERT_EQ(inflate_in_pieces(inf, payload, piece, out, 1 << 20, keep), Inflater::Status::Ok);
        EXPECT_EQ(out, m) << "size " << m.size() << " piece " << piece << " keep " << keep;
      }
    }
  }
}

TEST(Inflater, WithoutKeptContextABackReferenceIsCorrupt) {
  RefDeflate ref;
  const std::string m = chat_like_text(300);
  const std::string first = ref.message(m);
  const std::string second = ref.message(m);  // refers back into the first
  Inflater inf(15);
  std::string out;
  ASSERT_EQ(inflate_in_pieces(inf, first, 100, out, 1 << 20, false), Inflater::Status::Ok);
  out.clear();
  EXPECT_EQ(inflate_in_pieces(inf, second, 100, out, 1 << 20, false), Inflater::Status::Corrupt);
}

TEST(Inflater, ZipBombStopsAtTheLimit) {
  // 64 MiB of zeros compress to ~64 KiB; the limit is 1 MiB.
  RefDeflate ref(15, 9);
  const std::string zeros(64 << 20, '\0');
  const std::string bomb = ref.message(zeros);
  ASSERT_LT(bomb.size(), 100u << 10);
  const std::size_t limit = 1 << 20;
  Inflater inf(15);
  std::string out;
  EXPECT_EQ(inf.inflate(bomb, out, limit), Inflater::Status::TooBig);
  EXPECT_LE(out.size(), limit + 1);
  // The string's own growth may round up, but stays within twice the limit.
  EXPECT_LE(out.capacity(), 2 * limit + 2);
}

TEST(Inflater, LimitIsInclusive) {
  const std::size_t limit = 10000;
  for (std::size_t n : {limit - 1, limit, limit + 1}) {
    RefDeflate ref;
    const std::string payload = ref.message(std::string(n, 'z'));
    Inflater inf(15);
    std::string out;
    const auto st = inflate_in_pieces(inf, payload, 3, out, limit);
    EXPECT_EQ(st, n <= limit ? Inflater::Status::Ok : Inflater::Status::TooBig) << n;
    if (n <= limit) {
      EXPECT_EQ(out.size(), n);
    }
  }
}

TEST(Inflater, LimitCountsWhatIsAlreadyInTheBuffer) {
  // Fragments of one message share the buffer: the limit is for all of it.
  RefDeflate ref;
  const std::string payload = ref.message(std::string(600, 'q'));
  Inflater inf(15);
  std::string out(500, 'p');
  EXPECT_EQ(inflate_in_pieces(inf, payload, 50, out, 1000), Inflater::Status::TooBig);
}

TEST(Inflater, GarbageIsCorrupt) {
  for (const std::string& bad :
       {std::string("\xff\xff\xff\xff", 4), std::string("\x07", 1), random_bytes(100, 3)}) {
    Inflater inf(15);
    std::string out;
    EXPECT_EQ(inflate_in_pieces(inf, bad, 1, out, 1 << 20), Inflater::Status::Corrupt);
  }
}

TEST(Inflater, FinalBlockEndsTheMessage) {
  // A sender may end a message with BFINAL instead of a sync flush (§7.2.3.3);
  // the tail we append then follows the final block and is ignored...
  RefDeflate ref;
  const std::string m = chat_like_text(400);
  const std::string payload = ref.message(m, Z_FINISH);
  Inflater inf(15);
  std::string out;
  ASSERT_EQ(inflate_in_pieces(inf, payload, 9, out, 1 << 20), Inflater::Status::Ok);
  EXPECT_EQ(out, m);
  // ...but anything else after it in the same message is corrupt.
  Inflater inf2(15);
  out.clear();
  EXPECT_EQ(inf2.inflate(payload + "x", out, 1 << 20), Inflater::Status::Corrupt);
}

TEST(Inflater, FinalBlockKeepsTheWindowWithContextTakeover) {
  // Message 1 ends its stream (BFINAL); the sender's new stream for message
  // 2 uses message 1 as its dictionary, as if the context continued.
  const std::string m1 = chat_like_text(400);
  const std::string m2 = m1.substr(0, 350);
  RefDeflate a;
  const std::string p1 = a.message(m1, Z_FINISH);
  RefDeflate b;
  ASSERT_EQ(deflateSetDictionary(&b.z(), reinterpret_cast<const Bytef*>(m1.data()),
                                 static_cast<uInt>(m1.size())),
            Z_OK);
  const std::string p2 = b.message(m2);
  Inflater inf(15);
  std::string out;
  ASSERT_EQ(inflate_in_pieces(inf, p1, 50, out, 1 << 20, true), Inflater::Status::Ok);
  EXPECT_EQ(out, m1);
  out.clear();
  ASSERT_EQ(inflate_in_pieces(inf, p2, 50, out, 1 << 20, true), Inflater::Status::Ok);
  EXPECT_EQ(out, m2);
}

TEST(Inflater, ResetAfterAnErrorStartsClean) {
  Inflater inf(15);
  std::string out;
  EXPECT_EQ(inf.inflate("\xff\xff\xff", out, 100), Inflater::Status::Corrupt);
  inf.reset();
  RefDeflate ref;
  out.clear();
  ASSERT_EQ(inflate_in_pieces(inf, ref.message("fine"), 2, out, 100), Inflater::Status::Ok);
  EXPECT_EQ(out, "fine");
}

TEST(Inflater, ReleaseFreesAndComesBack) {
  Inflater inf(15);
  std::string out;
  RefDeflate ref;
  ASSERT_EQ(inflate_in_pieces(inf, ref.message("one"), 100, out, 100), Inflater::Status::Ok);
  EXPECT_TRUE(inf.holds_memory());
  inf.release();
  EXPECT_FALSE(inf.holds_memory());
  deflateReset(&ref.z());
  out.clear();
  ASSERT_EQ(inflate_in_pieces(inf, ref.message("two"), 100, out, 100), Inflater::Status::Ok);
  EXPECT_EQ(out, "two");
}

TEST(DeflateRoundTrip, OursThroughOurs) {
  for (uint8_t w : {uint8_t{8}, uint8_t{9}, uint8_t{12}, uint8_t{15}}) {
    Deflater d(bits(w));
    Inflater inf(std::max<uint8_t>(w, 9));
    for (const std::string& m : samples()) {
      std::string p, out;
      ASSERT_TRUE(d.compress(m, p, true));
      ASSERT_EQ(inflate_in_pieces(inf, p, 13, out, 1 << 20, true), Inflater::Status::Ok);
      EXPECT_EQ(out, m);
    }
  }
}

}  // namespace
}  // namespace parley::ws
