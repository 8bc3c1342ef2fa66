// Aggregation of RFC 8460 reports and the two writers of the summary (text
// and JSON, schema danekit.tlsrpt-summary/1). Pure: no I/O, no clock.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "danekit/report.h"
#include "danekit/tlsrpt_summary.h"
#include "report/shapes.h"
#include "util/hex.h"

namespace danekit {

namespace {

// RFC 8460 §4.3 (result types) with §4.3.1-§4.3.3 grouping: what each means in
// one line, and where an operator looks first.
constexpr std::array<TlsrptResultTypeInfo, 11> kResultTypes{{
    {"starttls-not-supported", "the MX host did not offer STARTTLS",
     "the MX's TLS settings (is a certificate loaded, is STARTTLS in the EHLO reply) and middleboxes that strip it"},
    {"certificate-host-mismatch", "the certificate did not name the MX host as the policy requires",
     "the certificate's subjectAltName against the MX host name (MTA-STS) or the TLSA records' name checks"},
    {"certificate-expired", "the certificate had expired",
     "certificate renewal, and whether the mail server was reloaded after it"},
    {"certificate-not-trusted", "the chain did not lead to a trusted CA (unknown CA, chain or name-constraint errors)",
     "the chain the server sends (intermediates included) and failure-reason-code"},
    {"validation-failure", "a failure in no other category", "failure-reason-code and additional-information"},
    {"tlsa-invalid", "none of the TLSA records was valid for the server's chain",
     "danekit check DOMAIN and danekit tlsa verify: records that match the certificate served (rollover)"},
    {"dnssec-invalid", "the resolver returned no valid records (DNSSEC validation failed)",
     "danekit dnssec DOMAIN: signatures, DS at the parent, every name server"},
    {"dane-required", "the sender requires DANE, but the MX host had no DNSSEC-validated TLSA records",
     "TLSA records at _25._tcp.MX-HOST in a signed zone, for every MX host"},
    {"sts-policy-fetch-error", "the MTA-STS policy could not be fetched",
     "https://mta-sts.DOMAIN/.well-known/mta-sts.txt: reachable, HTTP 200, text/plain"},
    {"sts-policy-invalid", "the MTA-STS policy did not validate",
     "the policy file's syntax (version, mode, mx, max_age) and the _mta-sts TXT record"},
    {"sts-webpki-invalid", "the MTA-STS policy host's certificate failed PKIX validation",
     "the certificate of mta-sts.DOMAIN: trusted CA, name, expiry"},
}};

constexpr std::size_t kListShown = 5;    // addresses shown in text before "and N more"
constexpr std::size_t kListInJson = 20;  // entries of a list in JSON before "..._more"

std::string date_of(std::optional<std::int64_t> t) { return t ? iso8601(*t).substr(0, 10) : "?"; }

std::string span(std::optional<std::int64_t> start, std::optional<std::int64_t> end) {
  if (!start && !end) return "no date-range";
  std::string a = date_of(start), b = date_of(end);
  return a == b ? a : fmt::format("{} to {}", a, b);
}

std::string rate(std::uint64_t failed, std::uint64_t ok) {
  std::uint64_t total = failed + ok;
  if (total == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(failed) / static_cast<double>(total));
}

std::string bounded_list(const std::set<std::string>& items, std::size_t shown) {
  std::string out;
  std::size_t i = 0;
  for (const auto& item : items) {
    if (i == shown) break;
    out += (i++ ? ", " : "") + sanitize_for_display(item);
  }
  if (items.size() > shown) out += fmt::format(" and {} more", items.size() - shown);
  return out;
}

void put_list(nlohmann::ordered_json& j, const char* name, const std::set<std::string>& items) {
  auto arr = nlohmann::ordered_json::array();
  for (const auto& item : items) {
    if (arr.size() == kListInJson) break;
    arr.push_back(item);
  }
  j[name] = std::move(arr);
  // Always there, 0 when nothing was left out: the shape never depends on counts.
  j[std::string(name) + "_more"] = items.size() > kListInJson ? items.size() - kListInJson : 0;
}

std::vector<std::pair<const std::string*, const TlsrptHostSummary*>> sorted_hosts(const TlsrptPolicySummary& p) {
  std::vector<std::pair<const std::string*, const TlsrptHostSummary*>> out;
  for (const auto& [name, h] : p.hosts) out.emplace_back(&name, &h);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second->failed_sessions > b.second->failed_sessions; });
  return out;
}

std::vector<std::pair<const std::string*, const TlsrptResultSummary*>> sorted_results(const TlsrptHostSummary& h) {
  std::vector<std::pair<const std::string*, const TlsrptResultSummary*>> out;
  for (const auto& [name, r] : h.results) out.emplace_back(&name, &r);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second->failed_sessions > b.second->failed_sessions; });
  return out;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

const TlsrptResultTypeInfo* find_tlsrpt_result_type(std::string_view name) {
  for (const auto& r : kResultTypes)
    if (r.name == name) return &r;
  return nullptr;
}

void add_tlsrpt_error(TlsrptSummary& s, const std::string& file, const std::string& error) {
  s.errors.push_back({file, error});
}

void add_tlsrpt_report(TlsrptSummary& s, const std::string& file, const TlsrptParse& parsed) {
  if (!parsed.report) {
    add_tlsrpt_error(s, file, parsed.error);
    return;
  }
  ++s.files_read;
  const TlsrptReport& r = *parsed.report;
  for (const auto& f : parsed.findings) s.findings.push_back({file, f});
  // The same report twice (organization-name and report-id) counts once.
  if (!r.report_id.empty()) {
    auto [it, fresh] = s.seen.emplace(std::make_pair(r.organization_name, r.report_id), file);
    if (!fresh) {
      s.duplicates.push_back({file, r.organization_name, r.report_id, it->second});
      return;
    }
  }
  ++s.reports;
  for (const auto& p : r.policies) {
    auto& ps = s.policies[{p.policy_type, p.policy_domain}];
    ps.policy_type = p.policy_type;
    ps.policy_domain = p.policy_domain;
    ++ps.reports;
    ps.successful_sessions = saturating_add(ps.successful_sessions, p.total_successful_session_count);
    ps.failed_sessions = saturating_add(ps.failed_sessions, p.total_failure_session_count);
    if (!r.organization_name.empty()) ps.organizations.insert(r.organization_name);
    if (r.start && (!ps.start || *r.start < *ps.start)) ps.start = r.start;
    if (r.end && (!ps.end || *r.end > *ps.end)) ps.end = r.end;
    if (!p.policy_string.empty()) ps.policy_strings.insert(p.policy_string);
    // An MX host of the policy shows even when nothing failed there.
    for (const auto& mx : p.mx_host) ps.hosts[mx];
    std::uint64_t detailed = 0;
    for (const auto& f : p.failure_details) {
      auto& h = ps.hosts[f.receiving_mx_hostname];
      h.failed_sessions = saturating_add(h.failed_sessions, f.failed_session_count);
      auto& rs = h.results[f.result_type];
      rs.failed_sessions = saturating_add(rs.failed_sessions, f.failed_session_count);
      if (!f.receiving_ip.empty()) rs.receiving_ips.insert(f.receiving_ip);
      if (!f.sending_mta_ip.empty()) rs.sending_ips.insert(f.sending_mta_ip);
      if (!f.failure_reason_code.empty()) rs.failure_reason_codes.insert(f.failure_reason_code);
      if (!r.organization_name.empty()) rs.organizations.insert(r.organization_name);
      detailed = saturating_add(detailed, f.failed_session_count);
    }
    ps.detailed_failures = saturating_add(ps.detailed_failures, detailed);
    if (detailed > p.total_failure_session_count)
      s.findings.push_back(
          {file, fmt::format("policy {} {}: failure-details count {} sessions, the summary {}", p.policy_type,
                             p.policy_domain, detailed, p.total_failure_session_count)});
  }
}

std::vector<const TlsrptPolicySummary*> sorted_policies(const TlsrptSummary& s) {
  std::vector<const TlsrptPolicySummary*> out;
  for (const auto& [key, p] : s.policies) out.push_back(&p);
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return std::max(a->failed_sessions, a->detailed_failures) > std::max(b->failed_sessions, b->detailed_failures);
  });
  return out;
}

std::string tlsrpt_summary_json(const TlsrptSummary& s, std::string_view version) {
  using json = report::json;
  json out = report::envelope("danekit.tlsrpt-summary/1", version);
  out["files"] = {{"read", s.files_read}, {"unreadable", s.errors.size()}};
  out["reports"] = s.reports;
  std::set<std::string> organizations;
  std::optional<std::int64_t> start, end;
  json policies = json::array();
  for (const auto* p : sorted_policies(s)) {
    organizations.insert(p->organizations.begin(), p->organizations.end());
    if (p->start && (!start || *p->start < *start)) start = p->start;
    if (p->end && (!end || *p->end > *end)) end = p->end;
    json pj{{"policy_type", p->policy_type},
            {"policy_domain", p->policy_domain},
            {"reports", p->reports},
            {"start", p->start ? json(iso8601(*p->start)) : json()},
            {"end", p->end ? json(iso8601(*p->end)) : json()},
            {"successful_sessions", p->successful_sessions},
            {"failed_sessions", p->failed_sessions},
            {"detailed_failures", p->detailed_failures}};
    std::uint64_t total = saturating_add(p->successful_sessions, p->failed_sessions);
    // Four decimals: a rate, not a measurement.
    pj["failure_rate"] =
        total ? json(std::round(static_cast<double>(p->failed_sessions) / static_cast<double>(total) * 1e4) / 1e4)
              : json();
    put_list(pj, "organizations", p->organizations);
    json strings = json::array();
    for (const auto& ps : p->policy_strings) {
      if (strings.size() == kListInJson) break;
      strings.push_back(ps);
    }
    std::size_t strings_more = p->policy_strings.size() - strings.size();
    pj["policy_strings"] = std::move(strings);
    pj["policy_strings_more"] = strings_more;
    json hosts = json::array();
    for (const auto& [name, h] : sorted_hosts(*p)) {
      json hj{{"host", name->empty() ? json() : json(*name)}, {"failed_sessions", h->failed_sessions}};
      json results = json::array();
      for (const auto& [type, r] : sorted_results(*h)) {
        json rj{{"result_type", *type}, {"failed_sessions", r->failed_sessions}};
        put_list(rj, "receiving_ips", r->receiving_ips);
        put_list(rj, "sending_ips", r->sending_ips);
        put_list(rj, "failure_reason_codes", r->failure_reason_codes);
        put_list(rj, "organizations", r->organizations);
        results.push_back(std::move(rj));
      }
      hj["results"] = std::move(results);
      hosts.push_back(std::move(hj));
    }
    pj["mx_hosts"] = std::move(hosts);
    policies.push_back(std::move(pj));
  }
  out["start"] = start ? json(iso8601(*start)) : json();
  out["end"] = end ? json(iso8601(*end)) : json();
  out["organizations"] = organizations;
  out["policies"] = std::move(policies);
  json dups = json::array();
  for (const auto& d : s.duplicates)
    dups.push_back(
        {{"file", d.file}, {"organization", d.organization}, {"report_id", d.report_id}, {"first_file", d.first_file}});
  out["duplicates"] = std::move(dups);
  json findings = json::array();
  for (const auto& f : s.findings) findings.push_back({{"file", f.file}, {"text", f.text}});
  out["findings"] = std::move(findings);
  json errors = json::array();
  for (const auto& e : s.errors) errors.push_back({{"file", e.file}, {"error", e.error}});
  out["errors"] = std::move(errors);
  // File names and report text are not ours: never let invalid UTF-8 throw.
  return report::dump(out);
}

std::string tlsrpt_summary_text(const TlsrptSummary& s) {
  std::string out;
  std::set<std::string> organizations, types;
  for (const auto& [key, p] : s.policies) organizations.insert(p.organizations.begin(), p.organizations.end());
  out += fmt::format("TLS-RPT summary: {} report{} from {} organization{}", s.reports, s.reports == 1 ? "" : "s",
                     organizations.size(), organizations.size() == 1 ? "" : "s");
  std::vector<std::string> extras;
  if (!s.duplicates.empty())
    extras.push_back(
        fmt::format("{} duplicate{} counted once", s.duplicates.size(), s.duplicates.size() == 1 ? "" : "s"));
  if (!s.errors.empty())
    extras.push_back(fmt::format("{} unreadable file{}", s.errors.size(), s.errors.size() == 1 ? "" : "s"));
  if (!extras.empty()) out += fmt::format(" ({})", fmt::join(extras, "; "));
  out += "\n";

  for (const auto* p : sorted_policies(s)) {
    std::string type = p->policy_type.empty() ? "(no policy-type)" : p->policy_type;
    std::string domain = p->policy_domain.empty() ? "(no policy-domain)" : sanitize_for_display(p->policy_domain);
    out += fmt::format("\n{} {}: {} failed of {} sessions ({}), {}, {} report{} from {}\n", type, domain,
                       p->failed_sessions, saturating_add(p->failed_sessions, p->successful_sessions),
                       rate(p->failed_sessions, p->successful_sessions), span(p->start, p->end), p->reports,
                       p->reports == 1 ? "" : "s", bounded_list(p->organizations, kListShown));
    if (p->detailed_failures > p->failed_sessions)
      out += fmt::format("  the failure details count {} failed sessions, more than the summaries\n",
                         p->detailed_failures);
    if (p->hosts.empty()) continue;
    out += fmt::format("  {:<34} {:<26} {:>8}  {}\n", "mx host", "result", "failed", "where");
    for (const auto& [name, h] : sorted_hosts(*p)) {
      std::string host = name->empty() ? "(not named)" : sanitize_for_display(*name);
      if (h->results.empty()) {
        out += fmt::format("  {:<34} {:<26} {:>8}\n", host, "-", 0);
        continue;
      }
      for (const auto& [rtype, r] : sorted_results(*h)) {
        types.insert(*rtype);
        std::vector<std::string> where;
        if (!r->receiving_ips.empty()) where.push_back("to " + bounded_list(r->receiving_ips, kListShown));
        if (!r->sending_ips.empty()) where.push_back("from " + bounded_list(r->sending_ips, kListShown));
        if (!r->failure_reason_codes.empty())
          where.push_back("code " + bounded_list(r->failure_reason_codes, kListShown));
        out += fmt::format("  {:<34} {:<26} {:>8}  {}\n", host,
                           rtype->empty() ? "(no result-type)" : sanitize_for_display(*rtype), r->failed_sessions,
                           fmt::join(where, "; "));
      }
    }
    if (p->detailed_failures < p->failed_sessions)
      out += fmt::format("  {} failed session{} without failure details\n", p->failed_sessions - p->detailed_failures,
                         p->failed_sessions - p->detailed_failures == 1 ? "" : "s");
  }

  if (!types.empty()) {
    out += "\nresult types (RFC 8460 §4.3):\n";
    for (const auto& t : types) {
      if (const auto* info = find_tlsrpt_result_type(t)) {
        out += fmt::format("  {}: {}.\n    look at: {}.\n", info->name, info->meaning, info->look_at);
      } else if (!t.empty()) {
        out += fmt::format("  {}: not a result type of RFC 8460 §4.3.\n", sanitize_for_display(t));
      }
    }
  }
  if (!s.duplicates.empty()) {
    out += "\nduplicates (same organization-name and report-id, counted once):\n";
    for (const auto& d : s.duplicates)
      out +=
          fmt::format("  {}: {} {}, first in {}\n", sanitize_for_display(d.file), sanitize_for_display(d.organization),
                      sanitize_for_display(d.report_id), sanitize_for_display(d.first_file));
  }
  if (!s.findings.empty()) {
    out += "\nfindings:\n";
    for (const auto& f : s.findings)
      out += fmt::format("  {}: {}\n", sanitize_for_display(f.file), sanitize_for_display(f.text));
  }
  if (!s.errors.empty()) {
    out += "\nunreadable:\n";
    for (const auto& e : s.errors)
      out += fmt::format("  {}: {}\n", sanitize_for_display(e.file), sanitize_for_display(e.error));
  }
  return out;
}

}  // namespace danekit
