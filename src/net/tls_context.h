// The server's TLS configuration: one OpenSSL SSL_CTX built from a PEM
// certificate chain and its private key (--tls-cert, --tls-key).
//
// Policy (docs/DEPLOY.md, "Native TLS"):
// - TLS 1.2 and 1.3 only; for 1.2, ECDHE with AEAD ciphers only (Mozilla's
//   "intermediate" list without DHE); OpenSSL's defaults for 1.3.
// - ALPN: `http/1.1` is selected when offered; a client that offers ALPN
//   without it (h2 only) is refused with no_application_protocol (RFC 7301
//   §3.2): it could not speak to us anyway. No ALPN at all is accepted.
// - No renegotiation (a client-initiated renegotiation costs us a handshake
//   per request); no server-side session cache: resumption uses stateless
//   tickets, so the event loops share no locked cache. The ticket key is the
//   context's: a reload starts new tickets.
// - SSL_MODE_RELEASE_BUFFERS: an idle connection gives its record buffers
//   back (docs/BENCHMARKS.md, "TLS", measures memory per idle connection).
//
// Reload (SIGHUP): load() builds a new context; connections made before keep
// the one they started with (each SSL holds a reference to its SSL_CTX), new
// handshakes use the new one. A context is immutable once built, so one is
// shared by every loop; SSL_new from several threads is safe.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace parley::net {

class TlsContext {
 public:
  // Loads and checks the chain and key: every failure is an Error whose
  // message names the file and what is wrong (unreadable, not PEM, no
  // certificate, key does not match the certificate).
  static Result<std::shared_ptr<const TlsContext>> load(const std::string& cert_file,
                                                        const std::string& key_file);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  // "subject CN=…, serial 0A1B…, expires 2027-01-01 00:00:00 UTC": for the log.
  const std::string& description() const { return description_; }
  // True when the leaf certificate's notAfter has passed (load() warns, it
  // does not refuse: an operator may prefer serving to not serving).
  bool expired() const { return expired_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}

  SSL_CTX* ctx_;
  std::string description_;
  bool expired_ = false;
};

}  // namespace parley::net
