// Signs JSON Web Tokens for the auth tests with OpenSSL, independently of the
// verifier under test (which only verifies): HS256 by HMAC, RS256 and ES256
// with keys generated at run time.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "auth/base64url.h"

namespace parley::auth::testing {

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

inline PkeyPtr generate_rsa(unsigned bits = 2048) {
  return PkeyPtr(EVP_RSA_gen(bits), EVP_PKEY_free);
}

inline PkeyPtr generate_ec(const char* curve = "P-256") {
  return PkeyPtr(EVP_EC_gen(curve), EVP_PKEY_free);
}

inline std::string pem_of(EVP_PKEY* key, bool private_key = false) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  const int ok =
      private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) throw std::runtime_error("PEM_write failed");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

inline std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// A SHA-256 signature by `key`: PKCS#1 v1.5 for RSA, DER ECDSA for EC.
inline std::string digest_sign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign failed");
  }
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value -> the 64-byte r || s of JWS.
inline std::string der_to_jws(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
  if (!sig) throw std::runtime_error("d2i_ECDSA_SIG failed");
  std::string out(64, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + 32, 32);
  return out;
}

inline std::string signing_input(std::string_view header_json, std::string_view claims_json) {
  return base64url_encode(header_json) + "." + base64url_encode(claims_json);
}

inline std::string sign_hs256(std::string_view secret, std::string_view claims_json,
                              std::string_view header_json = R"({"alg":"HS256","typ":"JWT"})") {
  const std::string input = signing_input(header_json, claims_json);
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

inline std::string sign_rs256(EVP_PKEY* key, std::string_view claims_json,
                              std::string_view header_json = R"({"alg":"RS256","typ":"JWT"})") {
  const std::string input = signing_input(header_json, claims_json);
  return input + "." + base64url_encode(digest_sign(key, input));
}

inline std::string sign_es256(EVP_PKEY* key, std::string_view claims_json,
                              std::string_view header_json = R"({"alg":"ES256","typ":"JWT"})") {
  const std::string input = signing_input(header_json, claims_json);
  return input + "." + base64url_encode(der_to_jws(digest_sign(key, input)));
}

}  // namespace parley::auth::testing
