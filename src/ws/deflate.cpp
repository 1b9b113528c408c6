#include "ws/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

namespace parley::ws {
namespace {

// The empty stored block a sync flush ends with, removed on the wire (§7.2.1).
constexpr char kTail[4] = {0x00, 0x00, static_cast<char>(0xff), static_cast<char>(0xff)};

// zlib counts input and output in 32-bit unsigned ints.
constexpr std::size_t kMaxZlibChunk = std::numeric_limits<uInt>::max();

// The smallest step by which inflate output grows (see Inflater::run).
constexpr std::size_t kMinInflateStep = 1024;

Bytef* in_ptr(const char* p) {
  // zlib's next_in is not const-qualified (without ZLIB_CONST) but is only read.
  return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

}  // namespace

struct Deflater::Stream {
  z_stream z{};
};

struct Inflater::Stream {
  z_stream z{};
};

Deflater::Deflater(Settings settings) : settings_(settings) {
  assert(settings.window_bits >= 8 && settings.window_bits <= 15);
}

Deflater::~Deflater() {
  release();
}

void Deflater::release() {
  if (stream_) deflateEnd(&stream_->z);
  stream_.reset();
}

bool Deflater::compress(std::string_view message, std::string& out, bool keep_context) {
  if (message.empty()) {
    // §7.2.3.6: one 0x00 (with the tail, an empty stored block). zlib would
    // emit nothing for a flush right after a flush.
    out.push_back('\0');
    return true;
  }
  if (!stream_) {
    auto s = std::make_unique<Stream>();
    // See the header: a 256-byte window is compressed as run lengths only.
    const bool tiny_window = settings_.window_bits == 8;
    const int bits = tiny_window ? 9 : settings_.window_bits;
    const int strategy = tiny_window ? Z_RLE : Z_DEFAULT_STRATEGY;
    if (deflateInit2(&s->z, settings_.level, Z_DEFLATED, -bits, settings_.mem_level, strategy) !=
        Z_OK) {
      return false;
    }
    stream_ = std::move(s);
  }
  z_stream& z = stream_->z;
  const std::size_t start = out.size();
  std::size_t used = start;
  while (!message.empty()) {
    const std::size_t take = std::min(message.size(), kMaxZlibChunk);
    z.next_in = in_ptr(message.data());
    z.avail_in = static_cast<uInt>(take);
    message.remove_prefix(take);
    // A sync flush with room to spare usually finishes in one call; when the
    // output fills up, zlib has more to give and is called again.
    do {
      const std::size_t room =
          std::min<std::size_t>(deflateBound(&z, z.avail_in) + 16, kMaxZlibChunk);
      out.resize(used + room);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      z.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&z, Z_SYNC_FLUSH);
      used += room - z.avail_out;
      assert(rc == Z_OK || rc == Z_BUF_ERROR);
      (void)rc;
    } while (z.avail_out == 0);
  }
  out.resize(used);
  // A sync flush always ends with the empty stored block.
  assert(used - start >= 4 && std::memcmp(out.data() + used - 4, kTail, 4) == 0);
  out.resize(used - 4);
  if (!keep_context) deflateReset(&z);
  return true;
}

Inflater::Inflater(uint8_t window_bits) : window_bits_(window_bits) {
  assert(window_bits >= 8 && window_bits <= 15);
}

Inflater::~Inflater() {
  release();
}

void Inflater::release() {
  if (stream_) inflateEnd(&stream_->z);
  stream_.reset();
  ended_ = false;
}

void Inflater::reset() {
  if (stream_) {
    inflateReset(&stream_->z);
    stream_->z.avail_in = 0;  // an error may have left input behind
  }
  ended_ = false;
}

Inflater::Status Inflater::inflate(std::string_view piece, std::string& out, std::size_t limit) {
  return run(piece, out, limit, false);
}

Inflater::Status Inflater::finish_message(std::string& out, std::size_t limit, bool keep_context) {
  Status status = Status::Ok;
  if (!ended_) status = run({kTail, sizeof kTail}, out, limit, true);
  if (status != Status::Ok) return status;
  if (!keep_context) {
    reset();
  } else if (ended_) {
    // The peer ended its DEFLATE stream (BFINAL) yet may still refer back
    // into this message from the next one: restart with the window kept.
    status = restart_keeping_window();
  }
  return status;
}

Inflater::Status Inflater::restart_keeping_window() {
  ended_ = false;
  z_stream& z = stream_->z;
  std::string window(std::size_t{1} << window_bits_, '\0');
  uInt size = 0;
  if (inflateGetDictionary(&z, reinterpret_cast<Bytef*>(window.data()), &size) != Z_OK) {
    return Status::Corrupt;
  }
  inflateReset(&z);
  if (size > 0 && inflateSetDictionary(&z, reinterpret_cast<Bytef*>(window.data()), size) != Z_OK) {
    return Status::Corrupt;
  }
  return Status::Ok;
}

Inflater::Status Inflater::run(std::string_view input, std::string& out, std::size_t limit,
                               bool is_tail) {
  if (ended_) return input.empty() ? Status::Ok : Status::Corrupt;
  if (!stream_) {
    auto s = std::make_unique<Stream>();
    if (inflateInit2(&s->z, -window_bits_) != Z_OK) return Status::NoMemory;
    stream_ = std::move(s);
  }
  z_stream& z = stream_->z;
  const std::size_t ceiling = limit == std::numeric_limits<std::size_t>::max() ? limit : limit + 1;
  // Output is added in steps: a first guess from the input size, then
  // doubling while zlib keeps filling it. The string's own capacity growth is
  // geometric, and each step is zeroed once, so the cost stays linear.
  std::size_t step = std::max(kMinInflateStep, input.size() * 4);
  for (;;) {
    if (z.avail_in == 0 && !input.empty()) {
      const std::size_t take = std::min(input.size(), kMaxZlibChunk);
      z.next_in = in_ptr(input.data());
      z.avail_in = static_cast<uInt>(take);
      input.remove_prefix(take);
    }
    const std::size_t used = out.size();
    if (used >= ceiling) return Status::TooBig;
    step = std::min({step, ceiling - used, kMaxZlibChunk});
    out.resize(used + step);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(step);
    const uInt in_before = z.avail_in;
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    const bool progress = z.avail_in != in_before || z.avail_out != step;
    out.resize(used + step - z.avail_out);
    if (rc == Z_STREAM_END) {
      ended_ = true;
      // Only the tail we appended may follow the final block.
      const bool rest = z.avail_in != 0 || !input.empty();
      z.avail_in = 0;
      if (rest && !is_tail) return Status::Corrupt;
      return out.size() > limit ? Status::TooBig : Status::Ok;
    }
    if (rc == Z_MEM_ERROR) return Status::NoMemory;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::Corrupt;
    if (out.size() > limit) return Status::TooBig;
    // Done when all input is in and zlib stopped short of filling the output
    // (so it holds nothing more back).
    if (z.avail_in == 0 && input.empty() && z.avail_out != 0) return Status::Ok;
    if (!progress) return Status::Corrupt;  // cannot happen with room to write; never spin
    step *= 2;
  }
}

}  // namespace parley::ws
