// net::TlsStream over the in-memory stream (tests/support/memory_stream.h):
// the test plays a TLS client with OpenSSL on memory BIOs, so every byte the
// server writes is seen, record by record, and every I/O step can be failed.
#include "net/tls_stream.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "support/memory_stream.h"

namespace parley::net {
namespace {

// A self-signed certificate and its key, as PEM files in the test's temp dir.
struct CertFiles {
  std::string cert;
  std::string key;
};

CertFiles make_cert_files(const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(x, subject);
  X509_sign(x, key, EVP_sha256());
  // ctest runs each test in its own process, two at a time: the files are
  // per process, or one test's key would meet another's certificate.
  std::string dir = ::testing::TempDir();
  std::string base = dir + name + "-" + std::to_string(::getpid());
  CertFiles files{base + ".crt", base + ".key"};
  FILE* f = std::fopen(files.cert.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(files.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return files;
}

std::shared_ptr<const TlsContext> server_context() {
  static std::shared_ptr<const TlsContext> ctx = [] {
    CertFiles files = make_cert_files("tls_stream_test");
    auto loaded = TlsContext::load(files.cert, files.key);
    EXPECT_TRUE(static_cast<bool>(loaded)) << (loaded ? "" : loaded.error().message);
    return *loaded;
  }();
  return ctx;
}

// What the server's upper layer (the Connection) sees.
struct Recorder : Stream::Handler {
  std::string data;
  int drained = 0;
  int disconnects = 0;
  void on_data(std::span<char> bytes) override { data.append(bytes.data(), bytes.size()); }
  void on_drained() override { ++drained; }
  void on_disconnect() override { ++disconnects; }
};

// The TLS client, on memory BIOs.
class Client {
 public:
  explicit Client(int version = 0, bool alpn = true) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (version != 0) {
      SSL_CTX_set_min_proto_version(ctx_, version);
      SSL_CTX_set_max_proto_version(ctx_, version);
    }
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_connect_state(ssl_);
    static constexpr unsigned char kAlpn[] = "\x08http/1.1";
    if (alpn) SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn - 1);
  }
  ~Client() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  SSL* ssl() { return ssl_; }
  // Bytes the client wants to send.
  std::string outgoing() {
    std::string bytes;
    char buf[16384];
    int n;
    while ((n = BIO_read(out_, buf, sizeof buf)) > 0)
      bytes.append(buf, static_cast<std::size_t>(n));
    return bytes;
  }
  void incoming(const std::string& bytes) {
    BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  }
  void write(std::string_view plain) {
    SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
  }
  // Decrypted bytes available now; sets `closed` on close_notify.
  std::string read() {
    std::string plain;
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        plain.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) closed = true;
      return plain;
    }
  }
  bool closed = false;

 private:
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* in_;
  BIO* out_;
};

// Counts TLS records by content type in bytes the server wrote.
int count_records(std::string_view wire, unsigned char type) {
  int n = 0;
  while (wire.size() >= 5) {
    std::size_t len =
        (static_cast<unsigned char>(wire[3]) << 8) | static_cast<unsigned char>(wire[4]);
    if (static_cast<unsigned char>(wire[0]) == type) ++n;
    wire.remove_prefix(std::min(wire.size(), 5 + len));
  }
  return n;
}

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() { open({}); }
  void open(testing::MemoryPeer::Options options) {
    tls.reset();
    peer = std::make_unique<testing::MemoryPeer>(options);
    tls = std::make_unique<TlsStream>(loop, server_context(), peer->make_stream(), stats);
    started = static_cast<bool>(tls->start(recorder));
    if (!started) tls->close_now();  // as the Connection does
  }
  // Moves bytes both ways until nothing moves (the loop's flushes included).
  void pump() {
    for (int i = 0; i < 20; ++i) {
      std::string up = client->outgoing();
      if (peer->server_exists()) peer->write(up);  // also hands up what waited for a resume
      if (peer->server_exists() && tls) tls->flush();
      std::string down = peer->server_exists() ? peer->read() : std::string();
      wire += down;
      if (!down.empty()) client->incoming(down);
      client_plain += client->read();
      if (up.empty() && down.empty()) return;
    }
  }
  bool handshake() {
    SSL_do_handshake(client->ssl());
    pump();
    SSL_do_handshake(client->ssl());
    pump();
    return SSL_is_init_finished(client->ssl()) == 1 && tls->handshake_done();
  }

  EventLoop loop;
  TlsStats stats;
  Recorder recorder;
  std::unique_ptr<Client> client = std::make_unique<Client>();
  std::unique_ptr<testing::MemoryPeer> peer;
  std::unique_ptr<TlsStream> tls;
  bool started = false;
  std::string wire;          // every byte the server wrote
  std::string client_plain;  // what the client decrypted
};

TEST_F(TlsStreamTest, HandshakesWithAlpnAndCarriesBytesBothWays) {
  ASSERT_TRUE(started);
  ASSERT_TRUE(handshake());
  EXPECT_EQ(tls->alpn(), "http/1.1");
  EXPECT_EQ(stats.handshakes.load(), 1u);
  client->write("GET / HTTP/1.1\r\n\r\n");
  pump();
  EXPECT_EQ(recorder.data, "GET / HTTP/1.1\r\n\r\n");
  tls->send(std::string_view("HTTP/1.1 200 OK\r\n\r\n"));
  pump();
  EXPECT_EQ(client_plain, "HTTP/1.1 200 OK\r\n\r\n");
}

TEST_F(TlsStreamTest, EverythingQueuedInOneIterationLeavesAsOneRecord) {
  ASSERT_TRUE(handshake());
  wire.clear();
  auto frame = std::make_shared<const std::string>(300, 'f');  // a shared broadcast frame
  tls->send(std::string_view("pong"));
  tls->send(frame);
  tls->send(std::string_view("ack"));
  tls->send(frame);
  EXPECT_EQ(tls->pending_bytes(), 4 + 300 + 3 + 300u);
  pump();
  EXPECT_EQ(count_records(wire, 0x17), 1);
  EXPECT_EQ(client_plain, "pong" + *frame + "ack" + *frame);
}

TEST_F(TlsStreamTest, LargeFramesGoInFullRecords) {
  ASSERT_TRUE(handshake());
  wire.clear();
  auto frame = std::make_shared<const std::string>(40000, 'x');
  tls->send(frame);
  pump();
  EXPECT_EQ(count_records(wire, 0x17), 3);  // 16 KiB, 16 KiB, the rest
  EXPECT_EQ(client_plain, *frame);
}

TEST_F(TlsStreamTest, PlaintextOnTheTlsPortGetsA400AndTheEnd) {
  peer->write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer = peer->read();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 ")) << answer;
  EXPECT_NE(answer.find("TLS"), std::string::npos);
  EXPECT_TRUE(peer->fin_received());
  EXPECT_EQ(stats.failed_not_tls.load(), 1u);
  EXPECT_TRUE(recorder.data.empty());
}

TEST_F(TlsStreamTest, GarbageIsAProtocolFailureAndCloses) {
  peer->write(std::string("\x16\x03\x01\x00\x05hello", 10));
  peer->read();
  EXPECT_EQ(stats.failed_protocol.load(), 1u);
  EXPECT_NE(tls->state(), Stream::State::Open);
}

TEST_F(TlsStreamTest, AClientWithoutHttp11InAlpnIsRefused) {
  Client h2_only(0, false);
  static constexpr unsigned char kH2[] = "\x02h2";
  SSL_set_alpn_protos(h2_only.ssl(), kH2, sizeof kH2 - 1);
  SSL_do_handshake(h2_only.ssl());
  peer->write(h2_only.outgoing());
  peer->read();
  EXPECT_EQ(stats.failed_protocol.load(), 1u);
  EXPECT_FALSE(tls->handshake_done());
}

TEST_F(TlsStreamTest, InputWaitsWhilePausedAndComesAfterResume) {
  ASSERT_TRUE(handshake());
  tls->pause_reading();
  peer->read();  // the inner stream's flush: nothing queued, so drained
  EXPECT_GE(recorder.drained, 1);
  client->write("while paused");
  pump();
  EXPECT_TRUE(recorder.data.empty());
  tls->resume_reading();
  pump();
  EXPECT_EQ(recorder.data, "while paused");
}

TEST_F(TlsStreamTest, GracefulCloseSendsCloseNotifyAfterTheQueuedBytes) {
  ASSERT_TRUE(handshake());
  tls->send(std::string_view("last words"));
  tls->close_after_flush();
  EXPECT_NE(tls->state(), Stream::State::Open);
  pump();
  EXPECT_EQ(client_plain, "last words");
  EXPECT_TRUE(client->closed);
  EXPECT_TRUE(peer->fin_received());
}

TEST_F(TlsStreamTest, ClosingBeforeTheHandshakeEndsIsCountedIncomplete) {
  SSL_do_handshake(client->ssl());
  peer->write(client->outgoing());  // ClientHello, then nothing
  peer->close();
  EXPECT_EQ(recorder.disconnects, 1);
  EXPECT_EQ(stats.failed_incomplete.load(), 1u);
}

TEST_F(TlsStreamTest, EveryFailedIoStepEndsTheStreamOnceAndCleanly) {
  // Beast's fail_count: the n-th I/O step fails, for every n the scenario has.
  for (std::size_t n = 1; n < 64; ++n) {
    recorder = Recorder{};
    client = std::make_unique<Client>();
    open({.fail_at = n});
    handshake();
    client->write("ping");
    pump();
    tls->send(std::string_view("pong"));
    pump();
    bool failed = peer->failed();
    if (failed) {
      EXPECT_EQ(recorder.disconnects, 1) << "step " << n;
      EXPECT_EQ(tls->state(), Stream::State::Closed) << "step " << n;
    } else {
      EXPECT_EQ(recorder.data, "ping");
      EXPECT_EQ(client_plain.substr(client_plain.size() - 4), "pong");
      return;  // every step has failed once
    }
    client_plain.clear();
  }
  FAIL() << "the scenario never completed without a failure";
}

}  // namespace
}  // namespace parley::net
