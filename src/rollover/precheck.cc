// The precheck over every MX host a certificate is for: the one decision
// `rollover precheck` prints and `rollover deploy` acts on.
#include <algorithm>

#include "danekit/rollover.h"

namespace danekit {

bool PrecheckRun::safe() const {
  return !hosts.empty() &&
         std::all_of(hosts.begin(), hosts.end(), [](const HostPrecheck& h) { return h.determined && h.result.safe; });
}

PrecheckRun precheck_hosts(const RolloverOptions& options, const std::vector<std::string>& hosts,
                           const KeySource& candidate) {
  PrecheckRun run;
  run.certificate = candidate.name;
  if (!candidate.chain.empty()) run.spki_sha256 = candidate.chain[0].spki_sha256;
  for (const auto& host : hosts) {
    RolloverOptions o = options;
    o.host = host;
    o.current.reset();
    o.next.reset();
    HostPrecheck h;
    h.host = host;
    h.owner = "_" + std::to_string(o.port) + "._tcp." + host;
    auto f = gather_rollover_facts(o);
    if (!f) {
      h.determined = false;
      h.error = f.error();
      h.result.reason = "could not gather the facts: " + f.error();
    } else {
      h.owner = f->owner;
      h.result = precheck_certificate(*f, candidate);
      // An indeterminate TLSA lookup (SERVFAIL, timeout) says nothing about
      // what senders will accept: undecided, not refused.
      h.determined = h.result.safe || f->tlsa_security != Security::indeterminate;
    }
    run.hosts.push_back(std::move(h));
  }
  return run;
}

int exit_status_for(const PrecheckRun& run) {
  int status = 0;
  for (const auto& h : run.hosts) {
    if (!h.determined) return deploy_status::undetermined;
    if (!h.result.safe) status = deploy_status::refused;
  }
  return run.hosts.empty() ? deploy_status::undetermined : status;
}

}  // namespace danekit
