// The RFC 7672 decision ladder as pure functions of facts.
//
// No I/O, no clock: the orchestrator (src/check) performs the lookups the ladder
// asks for, the probes it plans, and hands everything back to `decide`. Each rung
// is an early exit with its reason and RFC section, and "lookup failed",
// "nothing found" and "found but unusable" never share a path.
//
// Order of use:
//   plan_mx(domain, mx_answer)            -> which hosts, or a domain-level stop
//   for each host: HostFacts with A/AAAA; needs_cname_probe(); next_tlsa_query()
//   plan_host(facts, ctx)                 -> what to probe and how
//   decide(...)                           -> verdict, delivery, reasons
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "danekit/dns.h"
#include "danekit/probe.h"
#include "danekit/report.h"
#include "danekit/tlsa.h"

namespace danekit {

// What Postfix calls smtp_tls_dane_insecure_mx_policy: how a DANE sender treats
// a host with secure TLSA records reached through an insecure MX RRset.
enum class InsecureMxPolicy { dane, may };

struct PolicyContext {
  std::int64_t now = 0;  // seconds since the epoch
  int warn_days = 0;     // --days: warn about DANE-TA chain expiry within N days
  bool ipv4 = true;
  bool ipv6 = true;
  InsecureMxPolicy insecure_mx = InsecureMxPolicy::dane;
  // Flag MX addresses in IANA special-purpose ranges (address-special-purpose);
  // off for labs and intranets (--allow-special-addresses).
  bool flag_special_addresses = true;
};

struct MxTarget {
  std::string host;
  int preference = 0;
  bool implicit = false;
};

struct MxPlan {
  bool stop = false;  // the domain's outcome is decided without host work
  Verdict verdict = Verdict::none;
  Delivery delivery = Delivery::deferred;
  bool determined = true;
  Security mx_security = Security::indeterminate;
  std::vector<MxTarget> hosts;  // preference order, duplicates removed
  std::vector<Reason> reasons;
};

MxPlan plan_mx(const std::string& domain, const Answer& mx);

// The report's record of one answer (docs/json.md "DNS answers").
DnsStatus status_of(const Answer& a);

struct HostFacts {
  MxTarget target;
  std::optional<Answer> a;  // absent when the family is turned off
  std::optional<Answer> aaaa;
  std::optional<Answer> cname;  // CNAME query for the original name (insecure-address case)
  std::vector<Answer> tlsa;     // TLSA answers in the order next_tlsa_query asked for them
};

// RFC 7672 §2.2.3: when the addresses are insecure but the host is an alias,
// whether its original name is in signed space decides if a TLSA lookup at the
// original name is allowed. True when that CNAME query is needed and not done.
bool needs_cname_probe(const HostFacts& f);

// The next TLSA owner name to query ("_25._tcp.<name>"), or nullopt when the
// answers so far settle the question (or no TLSA lookup is allowed at all).
std::optional<std::string> next_tlsa_query(const HostFacts& f);

struct HostPlan {
  MxReport report;  // host, dns statuses, records, reasons so far; dane preliminary
  bool probe = false;
  ProbeMode mode = ProbeMode::opportunistic;
  std::vector<std::string> addresses;
  std::vector<TlsaRecord> usable;
  std::vector<std::string> extra_names;  // DANE-TA reference identifiers beyond the base
  bool determined = true;
  // The host is deferred for a reason of the domain's own that retrying
  // never changes (e.g. tlsa-owner-too-long): a DANE failure, not DNSSEC.
  bool permanent_failure = false;
};

HostPlan plan_host(const std::string& domain, Security mx_security, const HostFacts& f, const PolicyContext& ctx);

// The verdict, as a DANE-enforcing sender would act on these facts.
// `probes[i]` holds the probe results for `plans[i]` in address order.
CheckReport decide(const std::string& domain, const Answer& mx_answer, const MxPlan& mx, std::vector<HostPlan> plans,
                   std::vector<std::vector<ProbeResult>> probes, const PolicyContext& ctx);

}  // namespace danekit
