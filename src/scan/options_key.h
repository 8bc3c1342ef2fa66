// A digest of the check options that can change a domain's result, so that a
// resumed scan (--state) or a queue run (--queue) never mixes results made
// under different options. In: the trust anchor and root hints (their contents,
// so the same files at other paths on another machine give the same key), the
// resolver, -4/-6, --helo, --port, the timeouts, --days and
// --insecure-mx-policy. Out: concurrency, threads and other limits, output
// names, `policy.now`.
#pragma once

#include <string>

#include "danekit/check.h"

namespace danekit::scan {

// Hex SHA-256 of a canonical text of the options ("danekit.scan-options/1 ...").
std::string options_key(const CheckOptions& options);

}  // namespace danekit::scan
