// Test certificates made on the fly with OpenSSL: a CA, intermediates and
// leaves with chosen names and dates. Test-only code.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "danekit/cert.h"

namespace danekit::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Key = std::shared_ptr<EVP_PKEY>;
using Cert = std::shared_ptr<X509>;

inline Key make_key() { return Key(EVP_EC_gen("P-256"), PkeyFree{}); }

struct Issued {
  Key key;
  Cert cert;
};

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Signs a certificate for `cn` with `issuer` (self-signed when issuer is null).
inline Issued issue(const std::string& cn, const Issued* issuer, bool ca, std::vector<std::string> dns_names = {},
                    long not_before_offset = -86400, long not_after_offset = 86400 * 90, Key key = nullptr) {
  static long serial = 1;
  Issued out;
  out.key = key ? key : make_key();
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), not_before_offset);
  X509_gmtime_adj(X509_getm_notAfter(x), not_after_offset);
  X509_set_pubkey(x, out.key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  add_ext(x, issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) add_ext(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(x, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer) add_ext(x, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!dns_names.empty()) {
    std::string san;
    for (const auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    add_ext(x, issuer_cert, NID_subject_alt_name, san.c_str());
  }
  X509_sign(x, issuer ? issuer->key.get() : out.key.get(), EVP_sha256());
  out.cert = Cert(x, X509Free{});
  return out;
}

inline std::vector<std::uint8_t> der_of(const Cert& c) {
  unsigned char* der = nullptr;
  int len = i2d_X509(c.get(), &der);
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

inline CertInfo info_of(const Cert& c) { return *parse_certificate_der(der_of(c)); }

}  // namespace danekit::testing
