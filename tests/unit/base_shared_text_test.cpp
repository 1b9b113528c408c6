#include "base/shared_text.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace parley {
namespace {

TEST(SharedTextTest, EachEncodingIsBuiltOnceAndShared) {
  SharedText text = make_shared_text("hello");
  std::atomic<int> builds{0};
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      const SharedBytes& frame = text->encoding(0, [&] {
        ++builds;
        return make_shared_bytes("<" + std::string(text->text()) + ">");
      });
      seen[i] = frame.get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(builds.load(), 1);
  for (const std::string* p : seen) EXPECT_EQ(p, seen[0]);
  EXPECT_EQ(*seen[0], "<hello>");
}

TEST(SharedTextTest, SlotsAreIndependent) {
  SharedText text = make_shared_text("x");
  EXPECT_EQ(*text->encoding(0, [] { return make_shared_bytes("a"); }), "a");
  EXPECT_EQ(*text->encoding(1, [] { return make_shared_bytes("b"); }), "b");
  EXPECT_EQ(*text->encoding(0, [] { return make_shared_bytes("never"); }), "a");
}

}  // namespace
}  // namespace parley
