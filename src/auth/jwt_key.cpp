#include "auth/jwt_key.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <memory>

namespace parley::auth {
namespace {

constexpr std::size_t kMinSecretBytes = 32;
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kMaxKeyFileBytes = std::size_t{64} * 1024;
constexpr std::size_t kEs256PartBytes = 32;  // r and s of a P-256 signature, each

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using DecoderPtr =
    std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

// Fetched once: with OpenSSL 3 every implicit EVP_sha256() use in HMAC() or
// EVP_DigestVerifyInit looks the algorithm up again in the provider tables.
const EVP_MD* sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

Error invalid(std::string message) {
  return Error{Errc::Invalid, std::move(message)};
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The public key of a PEM `PUBLIC KEY` or `RSA PUBLIC KEY`, through OpenSSL's decoders.
PkeyPtr decode_public_key(std::string_view pem) {
  EVP_PKEY* raw = nullptr;
  DecoderPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY,
                                               nullptr, nullptr));
  if (!ctx) return nullptr;
  const unsigned char* data = bytes_of(pem);
  std::size_t len = pem.size();
  if (OSSL_DECODER_from_data(ctx.get(), &data, &len) != 1) return nullptr;
  return PkeyPtr(raw);
}

PkeyPtr certificate_public_key(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return PkeyPtr(X509_get_pubkey(cert.get()));
}

// The algorithm a public key allows, or why it allows none.
Result<Algorithm> algorithm_for(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
      return invalid("RSA key of " + std::to_string(bits) + " bits; RS256 needs at least " +
                     std::to_string(kMinRsaBits));
    }
    return Algorithm::RS256;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    if (EVP_PKEY_get_group_name(key, group, sizeof group, nullptr) != 1) {
      return invalid("EC key without a named curve; ES256 needs P-256");
    }
    const std::string_view name(group);
    if (name != "prime256v1" && name != "P-256") {
      return invalid("EC key on curve " + std::string(name) + "; only P-256 (ES256) is supported");
    }
    return Algorithm::ES256;
  }
  return invalid(std::string("public key of type ") + EVP_PKEY_get0_type_name(key) +
                 " is not supported: use RSA (RS256), EC P-256 (ES256) or an HS256 secret");
}

// JWS carries an ECDSA signature as r || s, 32 bytes each (RFC 7518 §3.4);
// OpenSSL verifies the DER encoding of the pair.
std::string es256_to_der(std::string_view signature) {
  if (signature.size() != 2 * kEs256PartBytes) return {};
  EcSigPtr sig(ECDSA_SIG_new());
  if (!sig) return {};
  BIGNUM* r = BN_bin2bn(bytes_of(signature), kEs256PartBytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes_of(signature) + kEs256PartBytes, kEs256PartBytes, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return {};
  return der;
}

}  // namespace

std::string_view algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::HS256:
      return "HS256";
    case Algorithm::RS256:
      return "RS256";
    case Algorithm::ES256:
      return "ES256";
  }
  return "HS256";
}

Result<JwtKey> JwtKey::from_bytes(std::string_view bytes) {
  if (bytes.find("-----BEGIN ") != std::string_view::npos) return from_pem(bytes);
  if (bytes.ends_with('\n')) bytes.remove_suffix(1);
  if (bytes.ends_with('\r')) bytes.remove_suffix(1);
  if (bytes.size() < kMinSecretBytes) {
    return invalid("HS256 secret of " + std::to_string(bytes.size()) + " bytes; at least " +
                   std::to_string(kMinSecretBytes) + " are needed (or give a PEM public key)");
  }
  return JwtKey(Algorithm::HS256, std::string(bytes), nullptr);
}

Result<JwtKey> JwtKey::from_pem(std::string_view pem) {
  const std::size_t begin = pem.find("-----BEGIN ");
  const std::string_view label = pem.substr(begin + 11, pem.find("-----", begin + 11) - begin - 11);
  if (label.find("PRIVATE KEY") != std::string_view::npos) {
    return invalid(
        "holds a private key; give the server only the public key "
        "(openssl pkey -in KEY -pubout)");
  }
  PkeyPtr key;
  if (label == "CERTIFICATE") {
    key = certificate_public_key(pem);
  } else if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") {
    key = decode_public_key(pem);
  } else {
    return invalid("PEM block \"" + std::string(label) +
                   "\" is not a public key (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)");
  }
  if (!key) return invalid("cannot read the PEM " + std::string(label) + " (damaged or cut?)");
  Result<Algorithm> algorithm = algorithm_for(key.get());
  if (!algorithm) return std::move(algorithm).error();
  return JwtKey(*algorithm, {}, std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free));
}

Result<JwtKey> JwtKey::from_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rbe"), std::fclose);
  if (!file) return Error::from_errno(path + ": cannot open", errno);
  std::string bytes(kMaxKeyFileBytes + 1, '\0');
  const std::size_t n = std::fread(bytes.data(), 1, bytes.size(), file.get());
  if (std::ferror(file.get())) return Error::from_errno(path + ": cannot read", errno);
  if (n > kMaxKeyFileBytes) return invalid(path + ": over 64 KiB, not a key");
  if (n == 0) return invalid(path + ": empty");
  bytes.resize(n);
  Result<JwtKey> key = from_bytes(bytes);
  if (!key) return invalid(path + ": " + key.error().message);
  return key;
}

bool JwtKey::verify(std::string_view signing_input, std::string_view signature) const {
  if (algorithm_ == Algorithm::HS256) return verify_hmac(signing_input, signature);
  return verify_public_key(signing_input, signature);
}

bool JwtKey::verify_hmac(std::string_view signing_input, std::string_view signature) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(sha256(), secret_.data(), static_cast<int>(secret_.size()), bytes_of(signing_input),
           signing_input.size(), mac, &len) == nullptr) {
    return false;
  }
  return signature.size() == len && CRYPTO_memcmp(mac, signature.data(), len) == 0;
}

bool JwtKey::verify_public_key(std::string_view signing_input, std::string_view signature) const {
  std::string der;
  if (algorithm_ == Algorithm::ES256) {
    der = es256_to_der(signature);
    if (der.empty()) return false;
    signature = der;
  } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(public_key_.get()))) {
    return false;  // RS256: exactly the modulus length
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, sha256(), nullptr, public_key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(signing_input),
                          signing_input.size()) == 1;
}

}  // namespace parley::auth
