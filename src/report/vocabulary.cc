// The public names of verdicts, deliveries and outcomes (docs/json.md).
#include <ctime>

#include "danekit/report.h"

namespace danekit {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::valid: return "valid";
    case Verdict::partial: return "partial";
    case Verdict::invalid: return "invalid";
    case Verdict::unusable: return "unusable";
    case Verdict::none: return "none";
    case Verdict::dnssec_failure: return "dnssec-failure";
    case Verdict::no_mail: return "no-mail";
    case Verdict::undetermined: return "undetermined";
  }
  return "none";
}

std::string_view to_string(Delivery d) {
  switch (d) {
    case Delivery::authenticated: return "authenticated";
    case Delivery::encrypted: return "encrypted";
    case Delivery::opportunistic: return "opportunistic";
    case Delivery::deferred: return "deferred";
    case Delivery::undeliverable: return "undeliverable";
    case Delivery::unknown: return "unknown";
  }
  return "deferred";
}

std::string_view to_string(HostDane d) {
  switch (d) {
    case HostDane::authenticated: return "authenticated";
    case HostDane::failed: return "failed";
    case HostDane::encrypt_only: return "encrypt-only";
    case HostDane::none: return "none";
    case HostDane::deferred: return "deferred";
  }
  return "none";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::info: return "info";
  }
  return "info";
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::verified: return "verified";
    case Outcome::mismatch: return "mismatch";
    case Outcome::name_mismatch: return "name-mismatch";
    case Outcome::expired: return "expired";
    case Outcome::no_starttls: return "no-starttls";
    case Outcome::tls_failed: return "tls-failed";
    case Outcome::unreachable: return "unreachable";
    case Outcome::encrypted: return "encrypted";
    case Outcome::not_checked: return "not-checked";
    case Outcome::policy_rejected: return "policy-rejected";
  }
  return "not-checked";
}

std::string_view to_string(Pkix p) {
  switch (p) {
    case Pkix::valid: return "valid";
    case Pkix::invalid: return "invalid";
    case Pkix::not_checked: return "not-checked";
  }
  return "not-checked";
}

std::string_view to_string(RecordStatus s) {
  switch (s) {
    case RecordStatus::unchecked: return "unchecked";
    case RecordStatus::matched: return "matched";
    case RecordStatus::unmatched: return "unmatched";
    case RecordStatus::rejected: return "rejected";
    case RecordStatus::unusable: return "unusable";
    case RecordStatus::hidden: return "hidden";
  }
  return "unchecked";
}

std::string iso8601(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace danekit
