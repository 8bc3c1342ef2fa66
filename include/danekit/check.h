// `danekit check`: the whole RFC 7672 check of one or more mail domains.
//
// The orchestrator resolves (libunbound, validating itself), walks the policy
// ladder, probes every address of every MX host concurrently on one event loop,
// and returns one CheckReport per domain.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "danekit/policy.h"
#include "danekit/report.h"
#include "danekit/resolver.h"

namespace danekit {

struct CheckOptions {
  ResolverConfig resolver;
  PolicyContext policy;  // `now` is filled in by run_checks when 0
  std::string helo = "danekit.invalid";
  std::uint16_t port = 25;
  std::chrono::milliseconds timeout{30000};  // whole check of one domain
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{10000};
  std::chrono::milliseconds dns_timeout{10000};
  // Ask each DANE address a second time, offering only the other key type's
  // signature algorithms, for a second certificate (on for check; scan asks
  // with --other-certificate: one more connection per address).
  bool other_certificate = true;
  // MTA-STS and TLS-RPT beside DANE (danekit/sts_policy.h): the TXT lookups,
  // the policy fetch, and the Web PKI judgment of every chain for its MX host.
  bool mta_sts = true;
  std::string ca_file;  // PEM CAs trusted beside the system store (policy fetch and MX certificates)
};

// Runs the checks concurrently; reports come back in input order. Domains must
// already be normalized (normalize_domain). Throws ResolverError when the
// resolver cannot be set up (bad trust anchor or hints file).
std::vector<CheckReport> run_checks(const std::vector<std::string>& domains, const CheckOptions& options);

}  // namespace danekit
