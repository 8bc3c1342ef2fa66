// The JSON writers of the publisher commands whose data has no public type of
// its own: `danekit mta-sts generate` (schema danekit.mta-sts-generate/1) and
// `danekit reasons` (danekit.reasons/1), docs/json.md. The front end gathers
// the facts, these turn them into one line; the shared sub-objects come from
// report/shapes.h. (tlsa generate and verify: danekit/tlsa_generate.h; dnssec:
// danekit/dnssec_audit.h; tlsrpt summarize: danekit/tlsrpt_summary.h; the scan
// summary: scan/summary.h.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "danekit/report.h"
#include "policy/reason_catalog.h"

namespace danekit::report {

struct MtaStsGenerated {
  std::string domain;  // A-labels, no trailing dot
  std::string mode;    // enforce | testing | none
  std::uint32_t max_age = 0;
  std::vector<std::string> mx;  // the patterns as written into the policy
  std::string policy_url, policy, id;
  std::string txt_name, txt_value;  // "_mta-sts.example.org" (no trailing dot), "v=STSv1; id=..."
  struct CurrentMx {
    std::string host;
    bool covered = false;
    std::string pattern;  // the first pattern covering it, "" when none
  };
  std::vector<CurrentMx> current_mx;
  std::vector<Reason> warnings;  // host set to the current MX host concerned
  // --check: the live record and policy against the generated ones.
  struct Live {
    bool checked = false;
    std::string record;  // valid | invalid | absent | lookup-failed
    std::string id;      // the live record's id, "" when none
    std::string fetch;   // not-fetched | no-address | ok | connect-failed | ...
    std::string detail;
    std::optional<bool> body_matches;  // null when no live policy was read
    std::optional<bool> id_matches;
    std::string state;  // in-sync | differs | stale-id | unknown
  } live;
};
std::string mta_sts_generate_json(const MtaStsGenerated& g);

// A Reason for `code` from the catalog (severity, RFC rule, fix) with this
// text; severity warning when the catalog does not know the code.
Reason catalog_reason(std::string_view code, std::string text, std::string host = {});

// The catalog entries given, in order: code, group, severity (E, W, I, I/W),
// rfc, meaning, fix (null when none).
std::string reasons_json(const std::vector<const ReasonInfo*>& rows);

}  // namespace danekit::report
