// Native TLS: a Stream that owns another one (the TCP connection, or an
// in-memory stream in tests) and speaks TLS over it, server side.
//
//   phases ── plaintext ──▶ TlsStream ── records ──▶ inner Stream ──▶ socket
//           ◀─ on_data ───  (SSL + BIO) ◀─ on_data ──
//
// Why a BIO over the inner stream rather than SSL on the file descriptor:
// the seam stays one interface. TLS reuses everything the TCP stream does
// (its corked gathered write, output accounting, the FIN-and-linger close,
// EPOLL interest), works unchanged over the in-memory stream (unit tests,
// fault injection, the whole-server fuzzer), and can never block: the BIO's
// read takes from the bytes the inner stream just handed up and reports
// "retry" when they are used up; its write appends the record to the inner
// stream's queue and always succeeds. The price is one copy of each record,
// from OpenSSL's buffer into the inner queue (SSL on the fd would write it to
// the kernel from there).
//
// Output (corking): send() only queues plaintext, holding a shared frame by
// reference. Before the loop sleeps, flush() encrypts everything queued in
// this iteration: small pieces are gathered into the loop's 16 KiB record
// buffer so that they leave as one record (one SSL_write per full record,
// one for the rest), and a piece of a record or more with nothing gathered
// before it is encrypted straight from its bytes. So a shared frame is
// encrypted once per recipient (it must be: the keys differ) and copied at
// most once, into that scratch buffer. The records then leave with the inner
// stream's own corked write, in the same loop iteration.
//
// Ciphertext handed to the inner stream can no longer be dropped (records
// carry sequence numbers: cutting one corrupts every later one), so
// drop_unstarted_output() drops only plaintext not yet encrypted.
//
// Input: records are decrypted into the loop's read buffer and handed up in
// pieces of up to 64 KiB. While reading is paused the inner stream is paused
// too; ciphertext that had already arrived waits here (and OpenSSL may hold a
// decrypted record), and is handed up after resume_reading(), from flush().
//
// The handshake is driven by input; it must finish within the connection's
// HTTP budget (--handshake-timeout), which the phase above enforces. A first
// byte that cannot start a TLS record is plaintext on the TLS port: an HTTP
// request gets a plain 400 saying so, anything else is cut. Every handshake
// that does not finish is counted by its cause in TlsStats (/metrics).
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/output_queue.h"
#include "net/stream.h"
#include "net/tls_context.h"

namespace parley::net {

// Per event loop, written by its thread only, read by /metrics from any.
struct TlsStats {
  std::atomic<uint64_t> handshakes{0};  // completed
  std::atomic<uint64_t> failed_not_tls{0};
  std::atomic<uint64_t> failed_protocol{0};    // refused by OpenSSL: version, cipher, ALPN, garbage
  std::atomic<uint64_t> failed_incomplete{0};  // closed or timed out before it finished
};

class TlsStream final : public Stream, private Stream::Handler, public Corked {
 public:
  TlsStream(EventLoop& loop, std::shared_ptr<const TlsContext> context,
            std::unique_ptr<Stream> inner, TlsStats& stats);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Stream
  Status start(Stream::Handler& handler) override;
  void send(std::string_view bytes) override;
  void send(SharedBytes bytes) override;
  std::size_t pending_bytes() const override {
    return plain_.pending_bytes() + inner_->pending_bytes();
  }
  std::size_t drop_unstarted_output() override { return plain_.drop_unstarted(); }
  void pause_reading() override;
  void resume_reading() override;
  bool reading_paused() const override { return paused_; }
  void close_after_flush() override;
  void close_now() override;
  State state() const override;
  void trim() override;

  // Corked: hands up input waiting since a pause, then encrypts queued output.
  void flush() override;

  bool handshake_done() const { return handshake_done_; }
  // The ALPN protocol agreed ("http/1.1"), or empty.
  std::string_view alpn() const;

  // For the BIO (tls_stream.cpp): ciphertext in and out.
  int bio_read(char* out, int size);
  int bio_write(const char* data, int size);

 private:
  // Stream::Handler, for the inner stream.
  void on_data(std::span<char> bytes) override;
  void on_drained() override;
  void on_disconnect() override;

  void read_records();
  bool advance_handshake();
  void deliver_plaintext();
  bool encrypt_queued();  // false when the connection failed
  bool write_record(std::string_view plain);
  void refuse_plaintext(std::span<char> bytes);
  void fail(std::atomic<uint64_t>& counter);
  void schedule_flush();
  void report_disconnect();
  bool input_waiting() const;

  EventLoop& loop_;
  std::shared_ptr<const TlsContext> context_;
  std::unique_ptr<Stream> inner_;
  TlsStats& stats_;
  SSL* ssl_ = nullptr;
  Stream::Handler* handler_ = nullptr;
  enum class Phase { Open, Draining, Closed } phase_ = Phase::Open;
  OutputQueue plain_;       // plaintext not yet encrypted
  std::string cipher_in_;   // ciphertext that arrived while paused
  std::string_view input_;  // what bio_read takes from during one read
  bool paused_ = false;
  bool flush_scheduled_ = false;
  bool handshake_started_ = false;
  bool handshake_done_ = false;
  bool counted_ = false;   // the handshake's outcome is in the stats
  bool reported_ = false;  // on_disconnect was called
};

}  // namespace parley::net
