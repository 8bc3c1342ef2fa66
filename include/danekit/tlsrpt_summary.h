// Aggregation of many RFC 8460 reports (tlsrpt_report.h) into what an
// operator of a receiving domain reads: per policy (type, domain), per MX host,
// per result type, how many sessions failed, reported by whom, over what span,
// and which receiving and sending addresses were involved. Pure: the caller
// reads the files and feeds each one's outcome in order.
//
// The same report (same organization-name and report-id) met again, e.g. a
// report sent by mail and by HTTPS, counts once; the later copy is listed in
// `duplicates`. A report without a report-id is never taken for a duplicate.
//
// Sessions without failure details (the summary's failures beyond the sum of
// the details, RFC 8460 §4.4 lets a reporter leave details out) stay in the
// policy's totals only. An MX host named in the policy (`mx-host`) but in no
// failure detail is listed with no failures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "danekit/tlsrpt_report.h"

namespace danekit {

struct TlsrptResultSummary {
  std::uint64_t failed_sessions = 0;
  std::set<std::string> receiving_ips, sending_ips, failure_reason_codes, organizations;
};

struct TlsrptHostSummary {
  std::uint64_t failed_sessions = 0;
  std::map<std::string, TlsrptResultSummary> results;  // by result-type
};

struct TlsrptPolicySummary {
  std::string policy_type, policy_domain;
  std::size_t reports = 0;
  std::uint64_t successful_sessions = 0, failed_sessions = 0;  // the reports' summaries
  std::uint64_t detailed_failures = 0;                         // the sum of failure-details
  std::set<std::string> organizations;
  std::optional<std::int64_t> start, end;             // earliest start, latest end
  std::map<std::string, TlsrptHostSummary> hosts;     // by host; "" when a detail names none
  std::set<std::vector<std::string>> policy_strings;  // distinct policy-string lists
};

struct TlsrptFileError {
  std::string file, error;
};
struct TlsrptFileFinding {
  std::string file, text;
};
struct TlsrptDuplicate {
  std::string file, organization, report_id, first_file;
};

struct TlsrptSummary {
  std::size_t files_read = 0;  // files that held a usable report (duplicates included)
  std::size_t reports = 0;     // distinct reports counted
  std::vector<TlsrptFileError> errors;
  std::vector<TlsrptFileFinding> findings;
  std::vector<TlsrptDuplicate> duplicates;
  // Keyed by (policy-type, policy-domain).
  std::map<std::pair<std::string, std::string>, TlsrptPolicySummary> policies;
  std::map<std::pair<std::string, std::string>, std::string> seen;  // (organization, report-id) -> file
};

// Adds one file's outcome: an unusable file (`error`) or a parsed report.
void add_tlsrpt_error(TlsrptSummary& s, const std::string& file, const std::string& error);
void add_tlsrpt_report(TlsrptSummary& s, const std::string& file, const TlsrptParse& parsed);

// Policies in output order: most failed sessions first, then type and domain.
std::vector<const TlsrptPolicySummary*> sorted_policies(const TlsrptSummary& s);

// Each RFC 8460 §4.3 result type in one line, and what to look at; nullptr
// for a type the RFC does not define.
struct TlsrptResultTypeInfo {
  std::string_view name, meaning, look_at;
};
const TlsrptResultTypeInfo* find_tlsrpt_result_type(std::string_view name);

// One JSON object (one line), schema danekit.tlsrpt-summary/1 (docs/json.md).
std::string tlsrpt_summary_json(const TlsrptSummary& s, std::string_view version);
// The text report (docs/cli.md).
std::string tlsrpt_summary_text(const TlsrptSummary& s);

}  // namespace danekit
