#include "net/tls_context.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <cstring>
#include <memory>

namespace parley::net {
namespace {

// Mozilla's "intermediate" TLS 1.2 suites, without DHE (no parameters to
// manage, and ECDHE is everywhere TLS 1.2 is).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // "error:0A000065:SSL routines::no certificate assigned": keep the words.
    const char* words = std::strrchr(buf, ':');
    out += words != nullptr && words[1] != '\0' ? words + 1 : buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Error tls_error(const std::string& what) {
  return Error(Errc::Invalid, what + ": " + openssl_errors());
}

// ALPN (RFC 7301): http/1.1 or nothing. `in` is the client's list of
// length-prefixed names.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
}

std::string asn1_time_text(const ASN1_TIME* t) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string describe(X509* cert) {
  std::string out = "subject ";
  char name[512];
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
  out += name;
  if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      out += ", serial ";
      out += hex;
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  out += ", expires " + asn1_time_text(X509_get0_notAfter(cert));
  return out;
}

Status configure(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return tls_error("TLS settings");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return tls_error("--tls-cert " + cert_file + ": cannot use it as a PEM certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate as it loads it.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return tls_error("--tls-key " + key_file + " does not match the certificate in --tls-cert " +
                       cert_file);
    }
    return tls_error("--tls-key " + key_file + ": cannot use it as a PEM private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return tls_error("--tls-key " + key_file + " does not match the certificate in --tls-cert " +
                     cert_file);
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const std::string& cert_file,
                                                           const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return tls_error("cannot create a TLS context");
  std::shared_ptr<TlsContext> ctx(new TlsContext(raw));
  if (Status s = configure(raw, cert_file, key_file); !s) return s.error();
  X509* leaf = SSL_CTX_get0_certificate(raw);
  ctx->description_ = describe(leaf);
  ctx->expired_ = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
  return std::shared_ptr<const TlsContext>(std::move(ctx));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);  // connections still using it hold their own reference
}

}  // namespace parley::net
