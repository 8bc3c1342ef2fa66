// MTA-STS and TLS-RPT inside `check`: from what the lookups and the policy
// fetch returned to the report's `mta_sts`, `tls_rpt`, per-MX coverage,
// per-address `pkix` and `delivery_by_sender`. Pure: no I/O, no clock.
//
// The senders (docs/json.md "Delivery by sender"):
//  - dane: an RFC 7672 sender, the report's `delivery`;
//  - mta-sts: an RFC 8461 sender without DANE. Under enforce it delivers only
//    to MX hosts an mx pattern covers whose certificate validates under the Web
//    PKI for the host name (§4.1, §4.2), in preference order; under testing or
//    none, or without a valid policy, it delivers over opportunistic TLS;
//  - dane+mta-sts: DANE first (RFC 8461 §2): a host with a secure TLSA RRset
//    is judged by DANE alone, and MTA-STS never overrides a failing DANE
//    check; other hosts are judged by the MTA-STS rules.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "danekit/dns.h"
#include "danekit/policy.h"
#include "danekit/report.h"

namespace danekit {

// Each TXT record of an answer as its character-strings concatenated
// (RFC 8461 §3.1, RFC 8460 §3); a malformed rdata is skipped.
std::vector<std::string> txt_records(const Answer& a);

// What the policy fetch returned (src/sts/https_fetch.h, without Asio).
struct StsFetchFacts {
  std::string
      outcome;  // ok, connect-failed, timeout, tls-failed, pkix-invalid, redirect, http-status, too-large, bad-response
  std::string address;
  int status = 0;
  std::string content_type;
  std::string location;
  std::string body;
  std::string detail;
};

struct StsFacts {
  bool checked = false;
  Answer sts_txt;  // _mta-sts.DOMAIN TXT
  Answer rpt_txt;  // _smtp._tls.DOMAIN TXT
  // Only when the record allowed a fetch:
  std::string policy_host;  // mta-sts.DOMAIN
  std::optional<Answer> policy_a, policy_aaaa;
  std::optional<StsFetchFacts> fetch;  // absent: no address to fetch from
};

// Whether the record lets a sender fetch the policy (exactly one valid record).
bool sts_record_allows_fetch(const Answer& sts_txt);

// Fills rep.mta_sts, rep.tls_rpt, rep.mx[].mta_sts_covered and
// addresses[].pkix (from sts_sessions where present), rep.by_sender, and adds
// the findings to rep.reasons. With !facts.checked it sets only by_sender.dane.
void apply_sts(CheckReport& rep, const StsFacts& facts);

// The live record and policy of a domain (danekit mta-sts generate --check):
// the _mta-sts TXT lookup through a validating resolver and, when the record
// allows it, the fetch from mta-sts.DOMAIN. Throws ResolverError when the
// resolver cannot be set up.
struct ResolverConfig;
struct LiveSts {
  Answer record;
  std::string policy_host;
  std::optional<StsFetchFacts> fetch;  // absent: not fetched (record, or no address)
};
LiveSts fetch_live_sts(const std::string& domain, const ResolverConfig& resolver, const std::string& ca_file,
                       std::chrono::milliseconds timeout);

}  // namespace danekit
