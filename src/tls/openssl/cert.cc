// Certificate facts and TLSA digests through OpenSSL. The only file besides
// smtp_tls.cc that touches X.509 structures.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>
#include <memory>

#include "danekit/cert.h"
#include "util/hex.h"

namespace danekit {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string name_line(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len > 0 ? len : 0));
  if (out.size() > 1024) out.resize(1024);
  return sanitize_for_display(out);  // a hostile name must not steer the terminal
}

std::int64_t asn1_time_to_epoch(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string key_description(X509* x) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (!key) return "unknown";
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: return fmt::format("RSA {}", bits);
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) == 1)
        return fmt::format("EC {}", group);
      return fmt::format("EC {}", bits);
    }
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
  }
  return fmt::format("{} {}", OBJ_nid2sn(EVP_PKEY_get_base_id(key)), bits);
}

}  // namespace

tl::expected<CertInfo, std::string> parse_certificate_der(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return tl::unexpected(std::string("not a DER X.509 certificate"));
  CertInfo info;
  info.der = der;
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x.get()), &spki);
  if (spki_len <= 0) return tl::unexpected(std::string("certificate has no encodable public key"));
  info.spki_der.assign(spki, spki + spki_len);
  OPENSSL_free(spki);
  info.subject = name_line(X509_get_subject_name(x.get()));
  info.issuer = name_line(X509_get_issuer_name(x.get()));
  info.not_before = asn1_time_to_epoch(X509_get0_notBefore(x.get()));
  info.not_after = asn1_time_to_epoch(X509_get0_notAfter(x.get()));
  info.is_ca = X509_check_ca(x.get()) > 0;
  info.key_type = key_description(x.get());
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    int n = sk_GENERAL_NAME_num(sans);
    for (int i = 0; i < n && info.dns_names.size() < 100; ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = g->d.dNSName;
      info.dns_names.push_back(
          sanitize_peer_text(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                              static_cast<std::size_t>(ASN1_STRING_length(s))),
                             255));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_NAME* subject = X509_get_subject_name(x.get());
  int idx = -1, last = -1;
  while ((idx = X509_NAME_get_index_by_NID(subject, NID_commonName, idx)) >= 0) last = idx;
  if (last >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last));
    info.common_name = sanitize_peer_text(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                                                           static_cast<std::size_t>(ASN1_STRING_length(cn))),
                                          255);
  }
  info.spki_sha256 = to_hex(tlsa_digest(1, info.spki_der));
  return info;
}

std::vector<std::uint8_t> tlsa_digest(std::uint8_t mtype, const std::vector<std::uint8_t>& input) {
  const EVP_MD* md = nullptr;
  if (mtype == 0) return input;
  if (mtype == 1) md = EVP_sha256();
  if (mtype == 2) md = EVP_sha512();
  if (!md) return {};
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &len, md, nullptr) != 1) return {};
  out.resize(len);
  return out;
}

std::vector<std::uint8_t> tlsa_association(const CertInfo& cert, std::uint8_t selector, std::uint8_t mtype) {
  const auto& input = selector == 0 ? cert.der : cert.spki_der;
  return tlsa_digest(mtype, input);
}

}  // namespace danekit
