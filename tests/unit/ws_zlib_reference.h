// Reference zlib codecs for the permessage-deflate tests: raw DEFLATE driven
// directly through zlib's API (sync flush, tail removed / appended, RFC 7692
// §7.2), so our Deflater, Inflater and Endpoint are checked against code
// that is not theirs.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <optional>
#include <string>
#include <string_view>

namespace parley::ws::test {

inline const std::string kTail("\x00\x00\xff\xff", 4);

// Reference inflate: raw DEFLATE with `bits`, whole payloads of one stream.
class RefInflate {
 public:
  explicit RefInflate(int bits) { EXPECT_EQ(inflateInit2(&z_, -bits), Z_OK); }
  ~RefInflate() { inflateEnd(&z_); }
  // Inflates one message payload (tail appended); nullopt on a zlib error.
  std::optional<std::string> message(std::string payload) {
    payload += kTail;
    z_.next_in = reinterpret_cast<Bytef*>(payload.data());
    z_.avail_in = static_cast<uInt>(payload.size());
    std::string out;
    char buf[4096];
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return std::nullopt;
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_in > 0 || z_.avail_out == 0);
    return out;
  }

 private:
  z_stream z_{};
};

// Reference deflate: raw DEFLATE, sync flush, tail removed.
class RefDeflate {
 public:
  explicit RefDeflate(int bits = 15, int level = 6) {
    EXPECT_EQ(deflateInit2(&z_, level, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  }
  ~RefDeflate() { deflateEnd(&z_); }
  std::string message(std::string_view text, int flush = Z_SYNC_FLUSH) {
    std::string out(deflateBound(&z_, text.size()) + 64, '\0');
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z_.avail_in = static_cast<uInt>(text.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    EXPECT_NE(deflate(&z_, flush), Z_STREAM_ERROR);
    out.resize(out.size() - z_.avail_out);
    if (flush == Z_SYNC_FLUSH) {
      EXPECT_EQ(out.substr(out.size() - 4), kTail);
      out.resize(out.size() - 4);
    }
    return out;
  }
  z_stream& z() { return z_; }

 private:
  z_stream z_{};
};

}  // namespace parley::ws::test
