#include "net/tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

namespace parley::net {
namespace {

// The largest plaintext one TLS record carries (RFC 8446 §5.1).
constexpr std::size_t kRecord = std::size_t{16} * 1024;

// Per loop thread, shared by its TLS connections (only used inside one call):
// decrypted input handed up, and the record being gathered for encryption.
constexpr std::size_t kPlainBufferSize = std::size_t{64} * 1024;
thread_local std::array<char, kPlainBufferSize> t_plain;
thread_local std::string t_record;

// What an HTTP client that forgot the "s" is told before the connection ends.
constexpr std::string_view kPlainHttpAnswer =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 47\r\n"
    "Connection: close\r\n"
    "\r\n"
    "This port speaks TLS: use https:// or wss://.\r\n";

TlsStream* stream_of(BIO* bio) {
  return static_cast<TlsStream*>(BIO_get_data(bio));
}

int bio_read_cb(BIO* bio, char* out, int size) {
  BIO_clear_retry_flags(bio);
  int n = stream_of(bio)->bio_read(out, size);
  if (n > 0) return n;
  BIO_set_retry_read(bio);  // nothing more now: the next input comes from the loop
  return -1;
}

int bio_write_cb(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  return stream_of(bio)->bio_write(data, size);
}

long bio_ctrl_cb(BIO*, int cmd, long, void*) {
  // Writes are queued on the inner stream at once: a flush has nothing to do.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create_cb(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The BIO method over a Stream, made once per process.
BIO_METHOD* stream_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley stream");
    if (m != nullptr) {
      BIO_meth_set_read(m, bio_read_cb);
      BIO_meth_set_write(m, bio_write_cb);
      BIO_meth_set_ctrl(m, bio_ctrl_cb);
      BIO_meth_set_create(m, bio_create_cb);
    }
    return m;
  }();
  return method;
}

}  // namespace

TlsStream::TlsStream(EventLoop& loop, std::shared_ptr<const TlsContext> context,
                     std::unique_ptr<Stream> inner, TlsStats& stats)
    : loop_(loop), context_(std::move(context)), inner_(std::move(inner)), stats_(stats) {
  ssl_ = SSL_new(context_->native());
  BIO* bio = stream_bio_method() != nullptr ? BIO_new(stream_bio_method()) : nullptr;
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL owns it
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (flush_scheduled_) loop_.uncork(this);
  inner_.reset();  // before the SSL its callbacks would write through
  SSL_free(ssl_);
}

Status TlsStream::start(Stream::Handler& handler) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  handler_ = &handler;
  if (ssl_ == nullptr) return Error(Errc::Internal, "cannot create a TLS session (out of memory)");
  return inner_->start(*this);
}

std::string_view TlsStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  if (ssl_ != nullptr) SSL_get0_alpn_selected(ssl_, &data, &len);
  return data == nullptr ? std::string_view()
                         : std::string_view(reinterpret_cast<const char*>(data), len);
}

Stream::State TlsStream::state() const {
  if (phase_ == Phase::Open) return State::Open;
  if (phase_ == Phase::Closed) return State::Closed;
  State inner = inner_->state();
  return inner == State::Open ? State::Draining : inner;
}

// --- output -----------------------------------------------------------------

void TlsStream::send(std::string_view bytes) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (phase_ != Phase::Open) return;
  plain_.append(bytes);
  schedule_flush();
}

void TlsStream::send(SharedBytes bytes) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (phase_ != Phase::Open) return;
  plain_.append(std::move(bytes));
  schedule_flush();
}

void TlsStream::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  loop_.cork(this);
}

void TlsStream::flush() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  flush_scheduled_ = false;
  if (phase_ != Phase::Open) return;
  if (!paused_ && input_waiting()) {
    input_ = cipher_in_;
    read_records();
    cipher_in_.erase(0, cipher_in_.size() - input_.size());
    input_ = {};
  }
  if (phase_ == Phase::Open && handshake_done_) encrypt_queued();
}

bool TlsStream::encrypt_queued() {
  // Everything queued this iteration, as few records as it fits in.
  std::string& record = t_record;
  record.clear();
  while (!plain_.empty()) {
    std::string_view piece = plain_.front();
    if (record.empty() && piece.size() >= kRecord) {
      // Whole records straight from the (possibly shared) frame: no copy.
      std::size_t n = piece.size() - piece.size() % kRecord;
      if (!write_record(piece.substr(0, n))) return false;
      plain_.take(n);
      continue;
    }
    std::size_t n = std::min(piece.size(), kRecord - record.size());
    record.append(piece.substr(0, n));
    plain_.take(n);
    if (record.size() == kRecord) {
      if (!write_record(record)) return false;
      record.clear();
    }
  }
  return record.empty() || write_record(record);
}

bool TlsStream::write_record(std::string_view plain) {
  ERR_clear_error();
  std::size_t written = 0;
  if (SSL_write_ex(ssl_, plain.data(), plain.size(), &written) == 1) return true;
  fail(stats_.failed_protocol);
  return false;
}

int TlsStream::bio_write(const char* data, int size) {
  // The record joins the inner stream's corked output; when that stream is
  // closing it is dropped there, which is what we want.
  inner_->send(std::string_view(data, static_cast<std::size_t>(size)));
  return size;
}

// --- input ------------------------------------------------------------------

void TlsStream::on_data(std::span<char> bytes) {
  if (phase_ != Phase::Open || bytes.empty()) return;
  if (!handshake_started_) {
    handshake_started_ = true;
    if (static_cast<unsigned char>(bytes[0]) != 0x16) {  // not a TLS handshake record
      refuse_plaintext(bytes);
      return;
    }
  }
  if (cipher_in_.empty()) {
    input_ = std::string_view(bytes.data(), bytes.size());
    read_records();
    if (phase_ == Phase::Open && !input_.empty()) cipher_in_.assign(input_);
  } else {
    cipher_in_.append(bytes.data(), bytes.size());
    input_ = cipher_in_;
    read_records();
    cipher_in_.erase(0, cipher_in_.size() - input_.size());
  }
  input_ = {};
}

int TlsStream::bio_read(char* out, int size) {
  std::size_t n = std::min(input_.size(), static_cast<std::size_t>(size));
  std::copy_n(input_.data(), n, out);
  input_.remove_prefix(n);
  return static_cast<int>(n);
}

bool TlsStream::input_waiting() const {
  return !cipher_in_.empty() || (ssl_ != nullptr && SSL_has_pending(ssl_) == 1);
}

void TlsStream::read_records() {
  if (!handshake_done_ && !advance_handshake()) return;
  deliver_plaintext();
}

bool TlsStream::advance_handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    counted_ = true;
    stats_.handshakes.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("TLS handshake: {} {} alpn={}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_),
                  alpn());
    return true;
  }
  if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ) return false;  // the client's next flight
  fail(stats_.failed_protocol);
  return false;
}

void TlsStream::deliver_plaintext() {
  std::span<char> buffer(t_plain);
  while (phase_ == Phase::Open && !paused_) {
    // Gather decrypted records while a whole one still fits, then hand up.
    std::size_t filled = 0;
    int error = SSL_ERROR_NONE;
    while (filled + kRecord <= buffer.size()) {
      ERR_clear_error();
      std::size_t n = 0;
      int r = SSL_read_ex(ssl_, buffer.data() + filled, buffer.size() - filled, &n);
      if (r != 1) {
        error = SSL_get_error(ssl_, r);
        break;
      }
      filled += n;
    }
    if (filled > 0) handler_->on_data(buffer.first(filled));
    if (error == SSL_ERROR_NONE) continue;  // the buffer was full: read on
    if (error == SSL_ERROR_WANT_READ) return;
    if (phase_ != Phase::Open) return;
    if (error == SSL_ERROR_ZERO_RETURN) {
      close_now();  // the peer's close_notify: its end of the stream, as a FIN
    } else {
      fail(stats_.failed_protocol);  // a bad record: OpenSSL queued the alert
    }
    return;
  }
}

void TlsStream::refuse_plaintext(std::span<char> bytes) {
  counted_ = true;
  stats_.failed_not_tls.fetch_add(1, std::memory_order_relaxed);
  phase_ = Phase::Draining;
  plain_.clear();
  // An HTTP request starts with a method in capitals: say what went wrong.
  if (bytes[0] >= 'A' && bytes[0] <= 'Z') inner_->send(kPlainHttpAnswer);
  inner_->close_after_flush();
}

void TlsStream::fail(std::atomic<uint64_t>& counter) {
  if (!counted_) {
    counted_ = true;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  unsigned long e = ERR_peek_error();
  char reason[256] = "";
  if (e != 0) ERR_error_string_n(e, reason, sizeof reason);
  spdlog::debug("TLS connection failed{}: {}", handshake_done_ ? "" : " in the handshake", reason);
  ERR_clear_error();
  phase_ = Phase::Draining;
  plain_.clear();
  inner_->close_after_flush();  // the alert OpenSSL queued, if any, leaves first
}

// --- flow control and the end -----------------------------------------------

void TlsStream::pause_reading() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (paused_) return;
  paused_ = true;
  inner_->pause_reading();  // it reports on_drained once its queue is empty
}

void TlsStream::resume_reading() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (!paused_) return;
  paused_ = false;
  inner_->resume_reading();
  // Input that arrived before the pause waits here: hand it up before sleeping.
  if (input_waiting()) schedule_flush();
}

void TlsStream::on_drained() {
  // The records are out. Plaintext still queued here means a flush is
  // coming, and the inner stream reports again after it.
  if (paused_ && phase_ == Phase::Open && plain_.empty() && handler_ != nullptr) {
    handler_->on_drained();
  }
}

void TlsStream::close_after_flush() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Draining;
  // Our close_notify after the last bytes (OpenSSL forbids it after a fatal
  // error); we do not wait for the peer's.
  if (handshake_done_ && encrypt_queued()) SSL_shutdown(ssl_);
  plain_.clear();
  inner_->close_after_flush();
}

void TlsStream::close_now() {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  plain_.clear();
  inner_->close_now();  // reports on_disconnect to us, unless it had closed already
  report_disconnect();
}

void TlsStream::on_disconnect() {
  if (!counted_) {
    counted_ = true;
    stats_.failed_incomplete.fetch_add(1, std::memory_order_relaxed);
  }
  phase_ = Phase::Closed;
  plain_.clear();
  report_disconnect();
}

void TlsStream::report_disconnect() {
  if (reported_) return;
  reported_ = true;
  if (flush_scheduled_) loop_.uncork(this);
  flush_scheduled_ = false;
  if (handler_ != nullptr) handler_->on_disconnect();
}

void TlsStream::trim() {
  if (plain_.empty()) plain_.clear();
  if (cipher_in_.empty()) std::string().swap(cipher_in_);
  inner_->trim();
}

}  // namespace parley::net
