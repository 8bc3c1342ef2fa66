// Output of `rollover precheck` and `rollover deploy`: JSON (schemas
// danekit.rollover-precheck/1 and danekit.rollover-deploy/1, docs/cli.md) and
// text. The one writer of each; both commands print the same precheck.
#pragma once

#include <string>

#include "danekit/rollover.h"

namespace danekit {

// One line, with "schema", "danekit" (the version) and "exit_status".
std::string to_json(const PrecheckRun& run);
// "safe: HOST: reason" or "UNSAFE: HOST: reason[; safe from TIME]", one line per host.
std::string render_text(const PrecheckRun& run);

// One line; "result" is nothing-staged, deployed, refused, undetermined,
// bad-staging, install-failed, reload-failed or locked.
std::string to_json(const DeployRun& run);
// One line per entry on what happened (deployed, refused, undetermined), or
// "nothing staged in DIR". Faults are not in it: see deploy_errors.
std::string render_text(const DeployRun& run);
// The faults (the directory's, and bad-staging, install- and reload-failed
// entries), one line each, "DIR/NAME: reason", for stderr.
std::vector<std::string> deploy_errors(const DeployRun& run);

}  // namespace danekit
