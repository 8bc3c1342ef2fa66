// What danekit needs to know about one X.509 certificate, without OpenSSL types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace danekit {

struct CertInfo {
  std::vector<std::uint8_t> der;       // the whole certificate
  std::vector<std::uint8_t> spki_der;  // SubjectPublicKeyInfo
  std::string subject;                 // RFC 2253 one-line form
  std::string issuer;
  std::int64_t not_before = 0;  // seconds since the epoch, UTC
  std::int64_t not_after = 0;
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  std::string common_name;             // last CN of the subject, if any
  bool is_ca = false;
  std::string key_type;     // "EC P-256", "RSA 2048", ...
  std::string spki_sha256;  // hex, for display
};

tl::expected<CertInfo, std::string> parse_certificate_der(const std::vector<std::uint8_t>& der);

// The digest a TLSA matching type calls for: 0 returns the input, 1 SHA2-256,
// 2 SHA2-512. Other types return an empty vector.
std::vector<std::uint8_t> tlsa_digest(std::uint8_t mtype, const std::vector<std::uint8_t>& input);

// The data a TLSA record with this selector and matching type would carry for
// this certificate (selector 0: whole certificate, 1: SubjectPublicKeyInfo).
std::vector<std::uint8_t> tlsa_association(const CertInfo& cert, std::uint8_t selector, std::uint8_t mtype);

}  // namespace danekit
