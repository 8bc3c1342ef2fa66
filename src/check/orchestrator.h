// The orchestrator of one domain's check: performs the lookups the policy
// ladder asks for and the probes it plans, concurrently, through the seams.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "check/seams.h"
#include "danekit/check.h"
#include "danekit/report.h"

namespace danekit {

struct DomainResult {
  CheckReport report;
  // The first local cause met by any lookup or probe (empty: none). The
  // report's verdict is then not to be trusted as the domain's.
  std::string local_cause;
};

// `domain` is normalized. `options.policy.now` of 0 means clock.now().
boost::asio::awaitable<DomainResult> check_domain(std::string domain, Resolver& resolver, Prober& prober,
                                                  const Clock& clock, const CheckOptions& options);

}  // namespace danekit
