// "Does this TLSA RRset authenticate this chain?" — the one answer danekit
// gives everywhere (check, scan, tlsa verify, rollover): OpenSSL's own DANE
// verification run offline on a captured chain (SSL_get0_dane +
// X509_STORE_CTX_set0_dane, as OpenSSL's test/danetest.c does), at a pinned
// time, with the reference identifiers of RFC 7672 §3.2.2 for DANE-TA(2) and no
// name checks for DANE-EE(3) (§3.2.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "danekit/cert.h"
#include "danekit/probe.h"
#include "danekit/tlsa.h"

namespace danekit {

struct Authentication {
  Outcome outcome = Outcome::mismatch;  // verified | mismatch | name_mismatch | expired | tls_failed
  int depth = -1;                       // chain depth OpenSSL matched, -1 if none
  std::optional<TlsaRecord> matched;
  std::string verify_error;  // OpenSSL's verification error text, if any
  std::string detail;        // one line for a human
  int accepted = 0;          // records OpenSSL accepted as usable
  // The reference identifier the leaf matched (DANE-TA only; empty for
  // DANE-EE, which has no name checks): the TLSA base, the MX host or the
  // next-hop domain.
  std::string matched_name;
};

// `chain` as the server sent it, leaf first. `base` is the TLSA base domain
// (the first reference identifier), `extra_names` further DANE-TA reference
// identifiers. `at` is the verification time in seconds since the epoch (0:
// the current time). Thread-safe.
Authentication authenticate(const std::vector<CertInfo>& chain, const std::vector<TlsaRecord>& records,
                            const std::string& base, const std::vector<std::string>& extra_names, std::int64_t at);

}  // namespace danekit
