// Per-record TLSA findings against the chains that servers presented.
//
// OpenSSL's DANE code decides whether an address authenticates; this module
// explains each record to a human: where it matched under its own usage rules,
// why it is unusable, whether digest-algorithm agility hides it, and near misses
// (a DANE-EE record that is really the issuer's key, a record hashed over the
// other selector, a digest of empty input).
#pragma once

#include <string>
#include <vector>

#include "danekit/cert.h"
#include "danekit/report.h"
#include "danekit/tlsa.h"

namespace danekit {

struct ServedChain {
  std::string address;
  std::vector<CertInfo> chain;  // leaf first, as sent
};

// One finding per record, in the order given.
std::vector<RecordFinding> analyze_records(const std::vector<TlsaRecord>& records,
                                           const std::vector<ServedChain>& chains);

// RFC 7671 §9: for each (usage, selector) the strongest matching type present is
// the only one used. Returns the records such a client ignores.
std::vector<TlsaRecord> hidden_by_agility(const std::vector<TlsaRecord>& usable);

}  // namespace danekit
