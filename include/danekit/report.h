// The result of `danekit check`: facts, per-record findings, per-address
// outcomes, and the verdict with ordered reasons. Vocabulary is fixed by
// docs/json.md (schema danekit.check/1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "danekit/dns.h"
#include "danekit/mta_sts.h"
#include "danekit/probe.h"
#include "danekit/tlsa.h"

namespace danekit {

// `undetermined` / `unknown`: danekit could not finish the check for a cause on
// its own side (reason codes local-*, internal-error); nothing about the domain.
enum class Verdict { valid, partial, invalid, unusable, none, dnssec_failure, no_mail, undetermined };
enum class Delivery { authenticated, encrypted, opportunistic, deferred, undeliverable, unknown };
enum class HostDane { authenticated, failed, encrypt_only, none, deferred };
enum class Severity { error, warning, info };

std::string_view to_string(Verdict v);
std::string_view to_string(Delivery d);
std::string_view to_string(HostDane d);
std::string_view to_string(Severity s);

// A finding with a stable code (docs/reasons.md), the RFC rule behind it, one
// sentence for a human and, where there is one, what to do.
struct Reason {
  std::string code;
  Severity severity = Severity::info;
  std::string rfc;
  std::string text;
  std::string fix;
  std::string host;     // MX host it concerns, empty for the domain
  std::string address;  // address it concerns, if any
};

struct RecordMatch {
  std::string address;
  int depth = 0;
  std::string key_type;  // of the leaf of the chain it matched ("EC P-256", "RSA 2048"): which certificate
};

// What one TLSA record did against the chains served: the one record model of
// check, scan, tlsa verify and rollover (docs/json.md "Records").
enum class RecordStatus {
  unchecked,  // usable, not yet compared with any chain
  matched,    // OpenSSL authenticates a served chain with it
  unmatched,  // usable, matches nothing served
  rejected,   // its data matches a served chain, but OpenSSL rejects that chain (names, dates)
  unusable,   // record_usability() says no (RFC 7672 §3.1.3, OpenSSL's rules)
  hidden,     // usable, but ignored beside a stronger digest (RFC 7671 §9 digest agility)
};
std::string_view to_string(RecordStatus s);

struct RecordFinding {
  TlsaRecord record;
  RecordStatus status = RecordStatus::unchecked;
  Unusable unusable_kind = Unusable::none;
  std::optional<std::string> unusable;  // why unusable (record_usability().reason)
  std::vector<RecordMatch> matches;     // where it matched under its own rules
  std::string note;                     // near-miss or other hint ("did you mean 2 1 1?")
};

// Records the verdict of record_usability(); an unusable record gets that status.
inline void set_usability(RecordFinding& f, const Usability& u) {
  f.unusable_kind = u.kind;
  if (u.usable()) {
    f.unusable.reset();
    return;
  }
  f.unusable = u.reason;
  f.status = RecordStatus::unusable;
}

struct DnsStatus {
  std::string name;
  std::string type;
  Security security = Security::indeterminate;
  AnswerKind kind = AnswerKind::failure;
  std::uint32_t ttl = 0;
  std::string detail;
  std::vector<std::string> cname_targets;
};

struct MxReport {
  std::string host;
  int preference = 0;
  bool implicit = false;       // no MX RRset: the domain itself (RFC 5321 §5.1)
  bool is_cname = false;       // the MX target is an alias (RFC 2181 §10.3)
  std::string tlsa_base;       // where the TLSA RRset was found or last looked for
  std::vector<DnsStatus> dns;  // address, CNAME and TLSA answers, in lookup order
  Security address_security = Security::indeterminate;
  Security tlsa_security = Security::indeterminate;
  std::uint32_t tlsa_ttl = 0;
  std::vector<RecordFinding> records;
  HostDane dane = HostDane::none;
  std::vector<ProbeResult> addresses;
  std::vector<Reason> reasons;
  // MTA-STS (RFC 8461 §4.1): whether an mx pattern of the domain's valid
  // policy covers this host (nullopt: no valid policy), and which pattern.
  std::optional<bool> mta_sts_covered;
  std::string mta_sts_pattern;
  // Sessions an MTA-STS sender has with this host's addresses where they
  // differ from the DANE sender's (another SNI, or a host a DANE sender does
  // not connect to); index-aligned with `addresses` when not empty. Not
  // printed: their WebPKI judgment is copied to `addresses[].pkix`.
  std::vector<ProbeResult> sts_sessions;
};

// One finding of the per-nameserver DNSSEC audit (danekit/dnssec_audit.h,
// docs/reasons.md "DNSSEC audit"): the server is an address, or "*" for every
// server of the zone.
struct DnssecFinding {
  std::string code;
  Severity severity = Severity::info;
  std::string zone;
  std::string server;
  std::string rfc;
  std::string text;
  std::string fix;
};

// The domain's MTA-STS state (RFC 8461) as a sender sees it.
struct MtaStsReport {
  bool checked = false;  // false: not looked at (--no-mta-sts)
  // The mode a sender applies: enforce, testing or none; nullopt ("absent")
  // when there is no valid policy (no or invalid record, failed fetch,
  // invalid policy).
  std::optional<sts::Mode> mode;
  std::string id;
  std::optional<std::uint32_t> max_age;
  std::vector<std::string> mx;  // the policy's patterns
  DnsStatus record_dns;         // _mta-sts.DOMAIN TXT
  sts::RecordStatus record_status = sts::RecordStatus::absent;
  std::string record;  // the one v=STSv1 record, if there is one
  // The policy fetch: "not-fetched" when the record did not allow it.
  std::string policy_url;
  std::vector<std::string> policy_addresses;  // what danekit's resolver returned for the policy host
  std::string fetch = "not-fetched";          // ok, connect-failed, timeout, tls-failed, pkix-invalid, redirect, ...
  std::string fetch_detail;
  std::string fetch_address;
  int http_status = 0;
  std::string content_type;
  std::string location;  // a redirect's target
  bool policy_valid = false;
};

struct TlsRptReport {
  bool checked = false;
  sts::RecordStatus status = sts::RecordStatus::absent;
  std::vector<std::string> rua;
  std::string record;
  DnsStatus dns;  // _smtp._tls.DOMAIN TXT
};

// The delivery outcome for three kinds of sender: an RFC 7672 (DANE) sender,
// an RFC 8461 (MTA-STS) sender without DANE, and one that implements both,
// DANE first (RFC 8461 §2).
struct DeliveryBySender {
  Delivery dane = Delivery::unknown;
  Delivery mta_sts = Delivery::unknown;
  Delivery both = Delivery::unknown;
};

struct CheckReport {
  std::string domain;  // A-label form
  Verdict verdict = Verdict::none;
  Delivery delivery = Delivery::deferred;
  bool determined = true;  // false when DNS failures or timeouts decided the verdict
  DnsStatus mx_answer;
  std::vector<MxReport> mx;
  std::vector<Reason> reasons;  // domain-level reasons first, then per host
  std::int64_t checked_at = 0;  // seconds since the epoch
  std::int64_t elapsed_ms = 0;
  // Set by `check` when it met bogus DNSSEC (mx-bogus, address-bogus,
  // tlsa-bogus): the errors and warnings of the DNSSEC audit of the domain.
  std::optional<std::vector<DnssecFinding>> dnssec;
  MtaStsReport mta_sts;
  TlsRptReport tls_rpt;
  DeliveryBySender by_sender;
};

// Exit status for one or more reports: the documented values in docs/cli.md.
namespace exit_status {
inline constexpr int valid = 0;
inline constexpr int dane_problem = 1;  // partial, invalid, unusable, bogus DNSSEC
inline constexpr int no_dane = 2;       // none, no-mail
inline constexpr int undetermined = 3;  // DNS failures or timeouts decided it
inline constexpr int usage = 64;
inline constexpr int internal = 70;
}  // namespace exit_status
int exit_status_for(const CheckReport& r);

// "2026-11-23T19:38:00Z" for seconds since the epoch.
std::string iso8601(std::int64_t epoch);

std::string to_json(const CheckReport& r);  // one line, schema danekit.check/1

// How the text report is laid out. `width` 0 does not wrap; otherwise every
// logical line wraps on spaces at that many columns, continuing under its
// own indent (items such as findings hang two columns in); escape sequences
// take no column and a word wider than the line stays whole on a line of its
// own. A concise report (the default) shows DNS answer lines only for
// answers that failed or are bogus or indeterminate, and chains and session
// detail only for addresses that are neither verified nor encrypted;
// `verbose` shows all of it. `legend` ends the report with one line
// explaining the finding markers and ADDRESS@N, when it shows any.
struct TextStyle {
  bool color = false;
  int width = 0;
  bool verbose = false;
  bool legend = true;
};
std::string render_text(const CheckReport& r, TextStyle style);

// The end of a text run over several domains: the legend once for all of
// them, whatever style.legend says (render each report with legend = false),
// then one line counting the verdicts, best first, e.g.
// "3 domains: 1 valid, 1 partial, 1 none (exit status 1)".
std::string render_summary(const std::vector<CheckReport>& reports, int exit_status, TextStyle style);

}  // namespace danekit
