// The upload sniffer (http/content_sniff.h): types from magic bytes, image
// sizes from headers, and everything else as application/octet-stream.
#include "http/content_sniff.h"

#include <gtest/gtest.h>

#include <string>

namespace parley::http {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out += static_cast<char>(b);
  return out;
}

std::string png_head(uint32_t w, uint32_t h) {
  std::string s = "\x89PNG\r\n\x1a\n";
  s += bytes({0, 0, 0, 13}) + "IHDR";
  s += bytes({int(w >> 24), int((w >> 16) & 255), int((w >> 8) & 255), int(w & 255)});
  s += bytes({int(h >> 24), int((h >> 16) & 255), int((h >> 8) & 255), int(h & 255)});
  return s + bytes({8, 6, 0, 0, 0});
}

TEST(ContentSniff, PngWithItsSize) {
  Sniffed s = sniff(png_head(640, 480), false);
  EXPECT_EQ(s.type, "image/png");
  EXPECT_TRUE(s.image);
  EXPECT_EQ(s.width, 640u);
  EXPECT_EQ(s.height, 480u);
}

TEST(ContentSniff, PngCutShortHasNoSize) {
  Sniffed s = sniff(png_head(640, 480).substr(0, 18), false);
  EXPECT_EQ(s.type, "image/png");
  EXPECT_EQ(s.width, 0u);
  EXPECT_EQ(s.height, 0u);
}

TEST(ContentSniff, JpegSizeFromTheFrameHeaderBehindOtherSegments) {
  std::string app0 = bytes({0xff, 0xe0, 0, 16}) + std::string(14, 'j');
  std::string sof0 =
      bytes({0xff, 0xc0, 0, 17, 8, 0x01, 0x2c, 0x02, 0x58, 3});  // 300 high, 600 wide
  Sniffed s = sniff(bytes({0xff, 0xd8}) + app0 + sof0 + std::string(20, '\0'), false);
  EXPECT_EQ(s.type, "image/jpeg");
  EXPECT_EQ(s.width, 600u);
  EXPECT_EQ(s.height, 300u);
}

TEST(ContentSniff, JpegWithBrokenMarkersIsStillJpegWithoutSize) {
  Sniffed s = sniff(bytes({0xff, 0xd8, 0xff, 0xe0, 0, 1, 0x41}), false);
  EXPECT_EQ(s.type, "image/jpeg");
  EXPECT_EQ(s.width, 0u);
}

TEST(ContentSniff, Gif) {
  Sniffed s = sniff("GIF89a" + bytes({0x20, 0x01, 0x10, 0x00}) + "rest", false);
  EXPECT_EQ(s.type, "image/gif");
  EXPECT_EQ(s.width, 288u);
  EXPECT_EQ(s.height, 16u);
}

TEST(ContentSniff, WebpExtended) {
  std::string s = "RIFF" + bytes({0, 0, 0, 0}) + "WEBPVP8X" + bytes({10, 0, 0, 0, 0, 0, 0, 0});
  s += bytes({99, 0, 0, 49, 0, 0});  // 100 x 50
  Sniffed r = sniff(s, false);
  EXPECT_EQ(r.type, "image/webp");
  EXPECT_EQ(r.width, 100u);
  EXPECT_EQ(r.height, 50u);
}

TEST(ContentSniff, PdfAndText) {
  EXPECT_EQ(sniff("%PDF-1.7\n...", false).type, "application/pdf");
  EXPECT_EQ(sniff("hello, 世界\n", true).type, "text/plain; charset=utf-8");
  EXPECT_FALSE(sniff("hello", true).image);
}

TEST(ContentSniff, EverythingElseIsOctetStream) {
  // HTML (what a lying Content-Type would want us to serve), scripts, SVG,
  // binaries that are not text: none is trusted as anything but bytes.
  EXPECT_EQ(sniff("<html><script>alert(1)</script>", false).type, "application/octet-stream");
  EXPECT_EQ(sniff(bytes({0x7f, 'E', 'L', 'F'}), false).type, "application/octet-stream");
  EXPECT_EQ(sniff("", true).type, "application/octet-stream");
  // A PNG signature only counts at the start.
  EXPECT_EQ(sniff("x\x89PNG\r\n\x1a\n", false).type, "application/octet-stream");
}

}  // namespace
}  // namespace parley::http
