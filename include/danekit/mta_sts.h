// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the pure, network-free parts.
//
// Each function takes what the DNS or the HTTPS fetch returned (TXT strings,
// a policy body) and returns a value: a status and the findings that explain
// it. Nothing here does I/O, reads a clock or keeps state; the check that
// looks the records up and fetches the policy calls these.
//
// Findings carry a stable code from the reason catalog (group "mta-sts",
// docs/reasons.md) and one sentence for a human. Text quoted from the input is
// made printable (sanitize_peer_text), so a finding is safe to show and to put
// in JSON.
//
// Example:
//   auto rec = parse_sts_txt({"v=STSv1; id=20240101T000000"});   // valid, id
//   auto pol = parse_sts_policy("version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 604800\n");
//   auto m = match_mx("mx1.example.net", pol.mx);                   // covered by "*.example.net"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace danekit::sts {

struct Finding {
  std::string code;  // a reason code, e.g. "sts-multiple-records"
  std::string text;  // one sentence, printable ASCII

  bool operator==(const Finding&) const = default;
};

// valid: exactly one record that parses. invalid: the record(s) exist but a
// sender must ignore them (malformed, or more than one). absent: no record of
// this kind.
enum class RecordStatus { valid, invalid, absent };
std::string_view to_string(RecordStatus s);

// Limits on hostile input. A policy body larger than max_policy_bytes or with
// more lines than max_policy_lines is rejected whole (sts-policy-too-large).
// At most max_findings_per_code findings of one code are listed; the last one
// says that more were left out.
inline constexpr std::size_t max_policy_bytes = 64 * 1024;
inline constexpr std::size_t max_policy_lines = 4096;
inline constexpr std::size_t max_findings_per_code = 10;
inline constexpr std::uint32_t max_max_age = 31557600;  // RFC 8461 §3.2

// ---- The _mta-sts.<domain> TXT record (RFC 8461 §3.1)

struct StsRecord {
  RecordStatus status = RecordStatus::absent;
  std::string id;      // set when valid
  std::string record;  // the one v=STSv1 record when there is exactly one (printable)
  std::vector<Finding> findings;
};

// `txt` holds each TXT record as its character-strings concatenated. Records
// that do not begin with "v=STSv1" followed by ';', white space or the end are
// discarded (RFC 8461 §3.1; "v=STSv10" is another version). Of the rest
// exactly one must remain. Its syntax is the §3.1 ABNF: fields
// `name=value` separated by ';' with optional white space around it, a
// required `id` of 1 to 32 letters and digits, unknown fields ignored, names
// and "v=STSv1" case-sensitive. Codes: sts-missing, sts-multiple-records,
// sts-record-invalid, sts-record-near-miss (a record that looks meant as one but
// is discarded, e.g. "v=stsv1" or " v=STSv1"), sts-duplicate-key (a second
// `id`: the first wins).
StsRecord parse_sts_txt(std::span<const std::string> txt);

// ---- The policy file (RFC 8461 §3.2)

enum class Mode { enforce, testing, none };
std::string_view to_string(Mode m);
std::optional<Mode> parse_mode(std::string_view text);  // exact, case-sensitive

struct StsPolicy {
  bool valid = false;  // a sender would apply this policy
  std::optional<Mode> mode;
  std::optional<std::uint32_t> max_age;
  std::vector<std::string> mx;  // the valid patterns, as written, in order
  std::vector<Finding> findings;
};

// Parses the body by the §3.2 ABNF. Lines end in LF or CRLF (both, mixed; the
// last line may lack its end). Each line is `key ":" *WSP value *WSP`, the
// key (case-sensitive) directly followed by ':'. Keys: version (= "STSv1"),
// mode (enforce | testing | none), max_age (1-10 digits, at most 31557600)
// are required once; mx is repeatable and required unless the mode is none;
// unknown keys are ignored. For a repeated version/mode/max_age the first
// wins (sts-duplicate-key). An empty line is not in the ABNF: it is skipped
// with a warning (sts-policy-blank-line). Codes that make the policy invalid:
// sts-policy-too-large, sts-policy-syntax, sts-policy-version, sts-policy-mode,
// sts-max-age-range, sts-mx-missing, sts-mx-pattern-invalid.
StsPolicy parse_sts_policy(std::string_view body);

// ---- MX patterns (RFC 8461 §4.1)

// Why `pattern` is not a valid `mx` value, or nullopt when it is: a domain
// name of RFC 5321 labels (letters, digits, inner hyphens; at most 63
// characters each, 253 in all), optionally with "*." in front. A '*'
// anywhere else, an empty label, or a non-ASCII byte (use the A-label,
// xn--...) makes it invalid. One trailing dot is accepted.
std::optional<std::string> mx_pattern_error(std::string_view pattern);

// Whether one pattern covers one MX host: ASCII case-insensitive, a trailing
// dot on either ignored, anchored at both ends. "*.example.com" covers exactly
// one label in front of example.com: mail.example.com, not
// foo.bar.example.com and not example.com. An invalid pattern covers nothing.
bool mx_pattern_covers(std::string_view pattern, std::string_view host);

struct MxMatch {
  bool covered = false;
  std::string pattern;            // the first pattern that covers the host
  std::vector<Finding> findings;  // sts-wildcard-depth when a wildcard almost covers it
};

// The first of `patterns` that covers `host`. When none does but a wildcard
// would if it spanned more labels or none (foo.bar.example.com or
// example.com for *.example.com), the finding sts-wildcard-depth says so.
MxMatch match_mx(std::string_view host, std::span<const std::string> patterns);

// ---- The _smtp._tls.<domain> TXT record (RFC 8460 §3)

struct TlsRptRecord {
  RecordStatus status = RecordStatus::absent;
  std::vector<std::string> rua;  // the mailto: and https: URIs, in order
  std::string record;            // the one v=TLSRPTv1 record when there is exactly one (printable)
  std::vector<Finding> findings;
};

// Records not beginning with "v=TLSRPTv1" followed by ';', white space or the
// end are discarded; exactly one must remain (RFC 8460 §3). Fields are
// separated by ';' with optional white space; `rua=` is required: URIs
// separated by ',' with optional white space. A URI of another scheme than
// mailto: or https: is skipped (tlsrpt-rua-unsupported); the record is
// invalid when no mailto: or https: URI remains. '!' and ',' inside a URI
// must be percent-encoded: RFC 8460 has no size suffix like DMARC's "!10m".
// Codes: tlsrpt-missing, tlsrpt-multiple-records, tlsrpt-invalid,
// tlsrpt-rua-unsupported, tlsrpt-near-miss, tlsrpt-duplicate-field.
TlsRptRecord parse_tlsrpt_txt(std::span<const std::string> txt);

// ---- Publishing a policy (danekit mta-sts generate)

struct PolicySpec {
  Mode mode = Mode::enforce;
  std::uint32_t max_age = 0;
  std::vector<std::string> mx;  // valid patterns
};

// The policy file: version, mode, one mx line per pattern, max_age, each line
// ending in CRLF as RFC 8461 §3.2 shows. Patterns are written lower-case
// without a trailing dot.
std::string policy_body(const PolicySpec& spec);

// The `id` for a body: the first 32 hex digits of its SHA2-256 digest, so it
// changes exactly when the body does (and comes back if the body does).
std::string policy_id(std::string_view body);

// "v=STSv1; id=<id>".
std::string sts_txt_value(std::string_view id);

}  // namespace danekit::sts
