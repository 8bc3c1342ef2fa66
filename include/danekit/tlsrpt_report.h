// SMTP TLS Reporting (RFC 8460) aggregate reports: what a sending MTA tells a
// receiving domain about the TLS sessions it tried, per policy (MTA-STS, DANE
// TLSA, or none found), with counts of successes and failures and details of
// what failed where.
//
// Two pure steps, no I/O:
//  - decode_tlsrpt_input() turns the bytes of one file as it arrived into the
//    report's JSON text: plain JSON, gzip (RFC 8460 §5.2 `.json.gz`, found by
//    the magic bytes 1f 8b), or a whole mail message (§5.3: multipart/report
//    with report-type=tlsrpt, the report as an application/tlsrpt+gzip or
//    application/tlsrpt+json part, base64 or not);
//  - parse_tlsrpt_report() reads that JSON (§4.4) into a TlsrptReport.
// Every step is bounded (TlsrptLimits): input size, decompressed size (a gzip
// bomb stops at the limit), MIME parts and depth, JSON nesting depth and
// values, policies and failure entries.
//
// Unusable input (not JSON, truncated gzip, over a limit) is an error. A
// report that parses but lacks a required part (report-id, date-range, a
// policy's summary, ...) is still a report: the part reads as empty or zero
// and the gap is a finding in TlsrptParse::findings.
//
// Tolerances (the RFC's §4.4 example is the base; each is also in
// docs/cli.md "danekit tlsrpt summarize"):
//  - keys are matched exactly as RFC 8460 §4.4 spells them, plus
//    `failure-error-code` for `failure-reason-code` (the §4.4 example
//    spells it so) and `mx-host-pattern` for `mx-host`; unknown keys are
//    ignored;
//  - `mx-host` (or `mx-host-pattern`) as one string or an array of strings;
//    `policy-string` as an array or one string;
//  - host and domain names compare without case and without a trailing dot
//    (`MX1.Example.` = `mx1.example`), and are kept in that form;
//  - `start-datetime` / `end-datetime` as RFC 3339 date-times with or without
//    fractional seconds, with `Z`, a numeric offset (`+02:00`) or no zone at
//    all (read as UTC), and `T`, `t` or a space between date and time;
//  - counts as JSON numbers or as strings of decimal digits ("5326"); a
//    negative, fractional or otherwise unreadable count reads 0 with a
//    finding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danekit {

struct TlsrptLimits {
  std::size_t max_input_bytes = 16u << 20;    // one file as read
  std::size_t max_decoded_bytes = 64u << 20;  // after gunzip: guards against a gzip bomb
  std::size_t max_mime_parts = 64;            // parts looked at in one message
  int max_mime_depth = 4;                     // nested multiparts
  int max_json_depth = 16;                    // §4.4 reports nest 4 deep
  std::size_t max_json_values = 1u << 20;     // every value, key and container
  std::size_t max_policies = 1000;            // per report
  std::size_t max_failure_details = 10000;    // per report, over all policies
};

// RFC 8460 §4.4 "failure-details" entry.
struct TlsrptFailure {
  std::string result_type;  // §4.3, e.g. "certificate-expired", as given (lower case)
  std::string sending_mta_ip;
  std::string receiving_mx_hostname;  // lower case, no trailing dot
  std::string receiving_mx_helo;
  std::string receiving_ip;
  std::uint64_t failed_session_count = 0;
  std::string additional_information;
  std::string failure_reason_code;
};

// One entry of "policies": the policy applied and its session counts.
struct TlsrptPolicy {
  std::string policy_type;  // "sts", "tlsa", "no-policy-found" or as given (lower case)
  std::vector<std::string> policy_string;
  std::string policy_domain;         // lower case, no trailing dot
  std::vector<std::string> mx_host;  // patterns as given, lower case, no trailing dot
  std::uint64_t total_successful_session_count = 0;
  std::uint64_t total_failure_session_count = 0;
  std::vector<TlsrptFailure> failure_details;
};

struct TlsrptReport {
  std::string organization_name;
  std::optional<std::int64_t> start, end;  // date-range, seconds since the epoch (UTC)
  std::string contact_info;
  std::string report_id;
  std::vector<TlsrptPolicy> policies;
};

struct TlsrptParse {
  std::optional<TlsrptReport> report;  // set unless `error`
  std::string error;                   // why the input is no usable report
  std::vector<std::string> findings;   // gaps in a usable report, e.g. "policies[0]: no summary"
};

// How the bytes arrived, for messages.
enum class TlsrptEncoding { json, gzip, mail_gzip, mail_json };
std::string_view to_string(TlsrptEncoding e);

struct TlsrptDecoded {
  std::string json;  // the report's JSON text
  TlsrptEncoding encoding = TlsrptEncoding::json;
};

// The report's JSON from one file's bytes, or why there is none ("gzip data
// is truncated", "decompressed size is over 64 MiB", "no application/tlsrpt
// part in the mail message", ...). Plain JSON may start with a UTF-8 BOM and
// white space.
struct TlsrptDecodeResult {
  std::optional<TlsrptDecoded> decoded;
  std::string error;
};
TlsrptDecodeResult decode_tlsrpt_input(std::string_view bytes, const TlsrptLimits& limits = {});

// Reads one RFC 8460 §4.4 report from its JSON text.
TlsrptParse parse_tlsrpt_report(std::string_view json, const TlsrptLimits& limits = {});

// "2016-04-01T00:00:00Z" and the tolerated forms above; nullopt when unreadable.
std::optional<std::int64_t> parse_tlsrpt_datetime(std::string_view text);

}  // namespace danekit
