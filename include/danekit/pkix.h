// Web PKI judgment of a captured chain, as an MTA-STS sender makes it
// (RFC 8461 §4.2): offline, apart from and never instead of the DANE
// verification of the same chain.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/cert.h"
#include "danekit/probe.h"

namespace danekit {

// The trust store: the system's default store plus an optional PEM file of
// further CAs (a private web CA such as the lab's). Immutable once loaded and
// safe to share between threads.
class PkixTrust {
 public:
  // Fails with one line when `ca_file` cannot be read or holds no certificate.
  static tl::expected<std::shared_ptr<const PkixTrust>, std::string> load(const std::string& ca_file);
  ~PkixTrust();
  PkixTrust(const PkixTrust&) = delete;
  PkixTrust& operator=(const PkixTrust&) = delete;

  struct Judgment {
    Pkix pkix = Pkix::not_checked;
    std::string detail;
  };
  // `chain` as served, leaf first; `host` the MX host name the certificate must
  // name (no partial wildcards); `tls_version` as OpenSSL names it
  // ("TLSv1.2"): below TLS 1.2 is invalid; `at` the verification time (seconds
  // since the epoch, 0: now).
  Judgment judge(const std::vector<CertInfo>& chain, const std::string& host, const std::string& tls_version,
                 std::int64_t at) const;

 private:
  PkixTrust() = default;
  void* store_ = nullptr;  // X509_STORE
};

}  // namespace danekit
