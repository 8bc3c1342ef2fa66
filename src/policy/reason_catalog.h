// The one table of the reason codes `check` and `scan` report: code, severity,
// RFC rule, meaning and fix. docs/reasons.md carries the same tables, written
// by `danekit reasons --format markdown`; a unit test fails when they differ or
// when the code emits a reason the table does not hold.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace danekit {

struct ReasonInfo {
  std::string_view code;
  std::string_view group;     // "check" (about the domain) | "local" (danekit's own trouble)
                              // | "mta-sts" (MTA-STS and TLS-RPT, src/sts/mta_sts.cc)
  std::string_view severity;  // E, W, I, or I/W where it depends on the case
  std::string_view rfc;       // the rule, "" for danekit's own codes
  std::string_view meaning;
  std::string_view fix;
};

std::span<const ReasonInfo> reason_catalog();
const ReasonInfo* find_reason(std::string_view code);

// The markdown table of one group, as docs/reasons.md holds it.
std::string reason_table_markdown(std::string_view group);

}  // namespace danekit
